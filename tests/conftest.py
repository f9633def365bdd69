"""Shared fixtures: the fixed test course and real databases (SQLite and PostgreSQL).

PostgreSQL is the one every developer and CI machine runs at 127.0.0.1:5432 (user ``postgres``,
no password). Each test gets a fresh database of its own (dropped afterwards), so tests never see
each other's rows and can run while others run too. Without a reachable server the PostgreSQL
variants skip with a hint; with ``CI=true`` they fail.

Migrating takes far longer than most tests, so the migrations run once per session into a
template (:func:`sqlite_template`, :func:`postgres_template`) and each test gets a copy: a file
copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. Templates are keyed by a hash of
``migrations/`` and the process id (parallel runs never share one) and dropped at the end.
Tests of the migrations themselves take :func:`empty_database_url`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.app import AppContext
from bot.content.loader import load_course
from bot.content.model import Course
from bot.db.engine import Database, open_database
from bot.db.migrate import MIGRATIONS_DIR
from bot.runtime import CourseRuntime
from bot.settings import Settings, load_settings

FIXTURE_LESSONS = Path(__file__).parent / "fixtures" / "lessons"
PG_ADMIN_DSN = os.environ.get(
    "TUTORBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"
)


T = TypeVar("T")


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to the end on a loop of its own (safe inside a running test loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def migrations_key() -> str:
    """A short hash of every file under ``migrations/``: a changed migration, a new template."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.relative_to(MIGRATIONS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


async def _migrate(url: str) -> None:
    database = await open_database(url)
    await database.dispose()  # no connection may stay open on a PostgreSQL template


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)


_pg_status: dict[str, str | None] = {}


def postgres_unavailable() -> str | None:
    """Why PostgreSQL can't be used (``None`` when it can). Checked once per run."""
    if "reason" not in _pg_status:
        try:
            with _pg_admin_connect() as conn:
                conn.execute("SELECT 1")
            _pg_status["reason"] = None
        except Exception as exc:
            _pg_status["reason"] = f"{type(exc).__name__}: {exc}".strip()
    return _pg_status["reason"]


def require_postgres() -> None:
    """Skip (or, in CI, fail) when PostgreSQL is not reachable."""
    reason = postgres_unavailable()
    if reason is None:
        return
    message = (
        f"PostgreSQL at {PG_ADMIN_DSN} is unreachable ({reason}). Start it (e.g. "
        "`pg_ctlcluster 15 main start`) or set TUTORBOT_TEST_PG to another server's URL."
    )
    if _in_ci():
        pytest.fail("CI=true requires PostgreSQL: " + message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def course() -> Course:
    """The fixed two-lesson course in tests/fixtures/lessons."""
    return load_course(FIXTURE_LESSONS)


def _pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


def _drop_postgres_database(name: str) -> None:
    try:
        with _pg_admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # the server went away: nothing left to clean
        pass


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied by every test that wants a migrated database."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / f"template-{migrations_key()}-{os.getpid()}.sqlite3"
    _run_async(_migrate(f"sqlite+aiosqlite:///{path}"))
    with sqlite3.connect(path) as conn:  # fold the WAL into the file, so one file is all
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of a migrated PostgreSQL database that tests' databases are created from."""
    require_postgres()
    name = f"tutorbot_tpl_{migrations_key()}_{os.getpid()}"
    _drop_postgres_database(name)  # a leftover of a crashed run with a recycled pid
    with _pg_admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        _run_async(_migrate(_pg_url(name)))
    except BaseException:
        _drop_postgres_database(name)
        raise
    yield name
    _drop_postgres_database(name)


@pytest.fixture
def make_postgres_database(request: pytest.FixtureRequest) -> Iterator[object]:
    """A factory of fresh PostgreSQL databases, each dropped at the end of the test.

    ``make()`` gives a migrated database (a copy of the session's template); ``make(empty=True)``
    one with no tables at all.
    """
    created: list[str] = []

    def make(*, empty: bool = False) -> str:
        require_postgres()
        template = "template0" if empty else request.getfixturevalue("postgres_template")
        name = f"tutorbot_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        created.append(name)
        return _pg_url(name)

    yield make
    for name in created:
        _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database's URL (a copy of the template), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "tutorbot.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    make = request.getfixturevalue("make_postgres_database")
    return make()  # type: ignore[operator,no-any-return]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database's URL (never migrated), for the tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tutorbot.sqlite3'}"
    make = request.getfixturevalue("make_postgres_database")
    return make(empty=True)  # type: ignore[operator,no-any-return]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    database = await open_database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests: fixture lessons, a data folder in tmp, no secrets from the host."""
    config = tmp_path / "config.toml"
    config.write_text("# empty: defaults only\n")
    return load_settings(
        config,
        environ={
            "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
            "TUTORBOT_PATHS__LESSONS_DIR": str(FIXTURE_LESSONS),
        },
    )


@pytest.fixture
async def app(db: Database, course: Course, settings: Settings) -> AppContext:
    """Services over the fixture course on each database."""
    return AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
