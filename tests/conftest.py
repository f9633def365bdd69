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

On PostgreSQL even the copy is slow (``CREATE DATABASE`` writes the whole template, catalogs
included, to the WAL: about a second a test on a busy machine, and ``DROP DATABASE`` as much
again), so the copies are reused (:class:`PostgresPool`): after a test its database is emptied
(every row deleted, every sequence restarted: as fresh as a new copy) and handed to the next test.
A database whose schema a test changed (a downgrade, say) is dropped instead of reused.
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


def _pg_dsn(name: str) -> str:
    """The libpq URL of database ``name`` on the test server."""
    return f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"


def _pg_url(name: str) -> str:
    return _pg_dsn(name).replace("postgresql://", "postgresql+asyncpg://", 1)


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


#: What a migrated database's schema is, as one hash: its relations, columns, constraints,
#: indexes, triggers, functions, types and the migration it is at. A database that no longer
#: matches its template's (a test added a trigger, or downgraded) is never reused.
_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
  SELECT 'relation:' || relname || ':' || relkind::text AS item FROM pg_class
   WHERE relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT table_name || '.' || column_name || ':' || data_type || ':' ||
         coalesce(column_default, '') || ':' || is_nullable
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL
  SELECT conrelid::regclass::text || ':' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT pg_get_indexdef(indexrelid) FROM pg_index
    JOIN pg_class ON pg_class.oid = pg_index.indrelid
   WHERE pg_class.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'trigger:' || tgrelid::regclass::text || ':' || tgname FROM pg_trigger
   WHERE NOT tgisinternal
  UNION ALL
  SELECT 'function:' || oid::regprocedure::text FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'type:' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'revision:' || version_num FROM alembic_version
) AS schema_items
"""


def _delete_order(connection: Any) -> list[str]:
    """The tables with rows to delete, each after every table whose foreign keys point at it."""
    tables = [row[0] for row in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version' ORDER BY tablename"
    )]
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for child, parent in connection.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ):
        if child != parent and child in parents:
            parents[child].add(parent)
    children = {table: {c for c, ps in parents.items() if table in ps} for table in tables}
    order: list[str] = []
    while children:
        leaves = sorted(t for t, below in children.items() if not below)
        if not leaves:  # a cycle of foreign keys: TRUNCATE handles it (slower, always right)
            raise ValueError("foreign keys form a cycle")
        order += leaves
        for leaf in leaves:
            del children[leaf]
        for below in children.values():
            below.difference_update(leaves)
    return order


class PostgresPool:
    """The migrated PostgreSQL databases of this process, reused from one test to the next.

    :meth:`take` hands out an empty migrated database (a new copy of the template when none is
    free); :meth:`give_back` empties it for the next test, or drops it when the test changed its
    schema or it cannot be emptied. Emptying deletes every row (children before parents) and
    restarts every sequence, in one transaction: milliseconds, where a new copy takes a second.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.free: list[str] = []
        self.made: list[str] = []
        self._fingerprint: str | None = None
        self._empty_sql: str | None = None

    def take(self) -> str:
        """The name of an empty migrated database for one test."""
        if self.free:
            return self.free.pop()
        name = f"tutorbot_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        if self._fingerprint is None:
            self._learn(name)
        return name

    def _learn(self, name: str) -> None:
        """Read the template's schema fingerprint and how to empty it, from a fresh copy."""
        import psycopg

        with psycopg.connect(_pg_dsn(name), autocommit=True, connect_timeout=3) as conn:
            self._fingerprint = conn.execute(_SCHEMA_FINGERPRINT).fetchone()[0]  # type: ignore[index]
            try:
                deletes = "".join(f'DELETE FROM "{t}";' for t in _delete_order(conn))
            except ValueError:
                tables = [r[0] for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )]
                deletes = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + ";"
        self._empty_sql = deletes + (
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, "
            "false) FROM pg_sequences WHERE schemaname = 'public';"
        )

    def give_back(self, name: str) -> None:
        """Empty ``name`` for the next test; drop it if it cannot be trusted to be fresh."""
        import psycopg

        try:
            with _pg_admin_connect() as admin:  # connections a test left open (a killed child)
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,),
                )
            with psycopg.connect(_pg_dsn(name), autocommit=True, connect_timeout=3) as conn:
                fingerprint = conn.execute(_SCHEMA_FINGERPRINT).fetchone()[0]  # type: ignore[index]
                if fingerprint != self._fingerprint or self._empty_sql is None:
                    raise ValueError("the test changed the schema")
                with conn.transaction():
                    conn.execute(self._empty_sql)  # type: ignore[arg-type]
        except Exception:
            _drop_postgres_database(name)
            self.made.remove(name)
            return
        self.free.append(name)

    def close(self) -> None:
        """Drop every database of the pool."""
        for name in self.made:
            _drop_postgres_database(name)
        self.made.clear()
        self.free.clear()


@pytest.fixture(scope="session")
def postgres_pool(postgres_template: str) -> Iterator[PostgresPool]:
    """This process's reusable migrated databases (dropped at the end, before the template)."""
    pool = PostgresPool(postgres_template)
    yield pool
    pool.close()


@pytest.fixture
def make_postgres_database(request: pytest.FixtureRequest) -> Iterator[object]:
    """A factory of fresh PostgreSQL databases, each given back (or dropped) after the test.

    ``make()`` gives an empty migrated database (from :class:`PostgresPool`);
    ``make(empty=True)`` one with no tables at all, dropped afterwards.
    """
    taken: list[str] = []
    created: list[str] = []
    pool: PostgresPool | None = None

    def make(*, empty: bool = False) -> str:
        nonlocal pool
        require_postgres()
        if not empty:
            pool = request.getfixturevalue("postgres_pool")
            name = pool.take()
            taken.append(name)
            return _pg_url(name)
        name = f"tutorbot_t_{uuid.uuid4().hex[:12]}"
        with _pg_admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        created.append(name)
        return _pg_url(name)

    yield make
    for name in taken:
        assert pool is not None
        pool.give_back(name)
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
