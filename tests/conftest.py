"""Shared fixtures: the fixed test course and real databases (SQLite and PostgreSQL).

PostgreSQL is the one every developer and CI machine runs at 127.0.0.1:5432 (user ``postgres``,
no password). Each test gets a fresh database of its own (created from ``template0`` and dropped
afterwards), so tests never see each other's rows and can run while others run too.
Without a reachable server the PostgreSQL variants skip with a hint; with ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import AppContext, Services
from bot.content.loader import load_course
from bot.content.model import Course
from bot.db.engine import Database, open_database
from bot.settings import Settings, load_settings

FIXTURE_LESSONS = Path(__file__).parent / "fixtures" / "lessons"
PG_ADMIN_DSN = os.environ.get(
    "TUTORBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"
)


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


@pytest.fixture
def make_postgres_database() -> Iterator[object]:
    """A factory of fresh PostgreSQL databases, each dropped at the end of the test."""
    created: list[str] = []

    def make() -> str:
        require_postgres()
        name = f"tutorbot_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        created.append(name)
        base = PG_ADMIN_DSN.rsplit("/", 1)[0]
        return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)

    yield make
    for name in created:
        try:
            with _pg_admin_connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # the server went away: nothing left to clean
            pass


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, on SQLite (a file, production settings) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tutorbot.sqlite3'}"
    make = request.getfixturevalue("make_postgres_database")
    return make()  # type: ignore[operator,no-any-return]


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
    return AppContext(settings=settings, course=course, db=db,
                      services=Services.build(course, settings))
