"""The engine and session factory, with production settings for SQLite and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across application crashes; the
last transactions may be lost only on power loss) and every transaction begins IMMEDIATE so two
writers never dead-lock on a lock upgrade. Inside one process a single pooled connection
serialises SQLite access, which is faster than letting connections fight over the file lock,
and its statements run on the event loop's thread (:mod:`bot.db.sqlite_inline` says why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db.sqlite_inline import (
    BUSY_TIMEOUT_MS,
    CONNECT_BUSY_TIMEOUT_MS,
    InlineSQLiteConnection,
    inline_creator,
)
from bot.errors import ConfigError, DatabaseUnavailableError

log = logging.getLogger(__name__)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def safe_url(url: str | URL) -> str:
    """The URL as text with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def normalise_url(url: str) -> URL:
    """Parse ``url`` and switch plain ``sqlite://``/``postgresql://`` to the async drivers."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Never the URL itself in the message: it may hold a password.
        raise ConfigError(
            "The database URL is not a valid SQLAlchemy URL "
            "(e.g. postgresql://user@host:5432/db or sqlite:///path/to/file)."
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ConfigError(
            f"Unsupported database {safe_url(parsed)}: use SQLite or PostgreSQL."
        )
    if parsed.drivername in ("sqlite", "postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with our production settings.

    ``echo`` logs every statement through the ``sqlalchemy.engine`` logger, so it reaches
    standard error with every other log line (SQLAlchemy's own ``echo=True`` would print to
    standard output and break ``tutorbot ask --json``).
    """
    parsed = normalise_url(url)
    if echo:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        if database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"Cannot create the folder {path.parent} for the SQLite database "
                    f"({exc.strerror or type(exc).__name__}): set paths.data_dir or database.url "
                    "to a place this process can write."
                ) from None
            database = str(path)
        # One connection per process, used in the event loop's thread (see sqlite_inline).
        kwargs.update(
            pool_size=1, max_overflow=0, pool_timeout=60, async_creator=inline_creator(database)
        )
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Switching a new file to WAL takes a lock for a moment; several processes starting
        # together wait for each other here (once per process, at start-up), then every
        # statement waits at most BUSY_TIMEOUT_MS on the loop (sqlite_inline says why).
        cursor.execute(f"PRAGMA busy_timeout={CONNECT_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: this runs for every unit of work, and a statement through
        # SQLAlchemy's execution path costs more than the BEGIN itself.
        driver = connection.connection.driver_connection
        if isinstance(driver, InlineSQLiteConnection):
            driver.begin_immediate()
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Database:
    """An engine and its session factory. Use ``async with db.sessions.begin() as session``."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def database_from_url(url: str, *, echo: bool = False) -> Database:
    """A :class:`Database` for ``url`` (no connection is made yet, nothing is migrated)."""
    engine = create_engine(url, echo=echo)
    return Database(engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False))


async def open_database(url: str, *, echo: bool = False, upgrade: bool = True) -> Database:
    """Connect, upgrade the schema to the newest migration, and return the database.

    Raises :class:`DatabaseUnavailableError` naming the URL (without its password) when the
    database cannot be reached, opened or migrated.
    """
    from bot.db.migrate import upgrade_database

    db = database_from_url(url, echo=echo)
    try:
        if upgrade:
            await upgrade_database(db.engine)
        else:
            async with db.engine.connect():
                pass
    except (TimeoutError, OSError, OperationalError, DBAPIError) as exc:
        await db.dispose()
        reason = _reason(exc)
        raise DatabaseUnavailableError(
            f"Cannot open the database at {safe_url(url)}: {reason}"
        ) from None
    return db


def _reason(exc: BaseException) -> str:
    """A one-line cause for a connection failure, without URLs or secrets."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    name = type(original).__name__
    if "file is not a database" in text or "malformed" in text:
        return "the file is not a SQLite database or is corrupt"
    if "unable to open database file" in text:
        return "the file cannot be opened (check the folder exists and is writable)"
    if isinstance(original, ConnectionRefusedError) or "Connect call failed" in text:
        return "connection refused (is the server running and the host/port right?)"
    return f"{name}: {text}"[:300] if text else name
