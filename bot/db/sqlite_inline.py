"""SQLite for SQLAlchemy's asyncio API without a thread hop per call.

Why: aiosqlite runs every call (cursor, execute, fetch, close, commit) on a worker thread and
wakes the event loop for each result. Measured here, that costs 60-200 µs per statement against
about 1.5 µs for the statement itself, and a Discord command issues dozens of them: the hops,
not SQLite, dominated every latency we measured. SQLite is an in-process library; in WAL mode
with ``synchronous=NORMAL`` a statement never waits on the disk, so running it directly on the
event loop costs less than handing it to a thread.

This module gives SQLAlchemy's ``sqlite+aiosqlite`` dialect (through its documented
``async_creator`` hook) a connection with aiosqlite's interface whose coroutines run the
``sqlite3`` call immediately, in the calling thread.

The trade-off: while another *process* holds SQLite's write lock, a statement waits on the loop
for up to ``busy_timeout``. Within one process our single pooled connection never waits. Several
bot processes should share PostgreSQL, not SQLite (README, "Configuration").
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: How long a statement waits for another process's write lock before failing (ms).
BUSY_TIMEOUT_MS = 5000


class _InlineCursor:
    """An aiosqlite-style cursor over a ``sqlite3.Cursor``."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Any:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None


class _RunNow:
    """Stands in for aiosqlite's request queue: runs the function at once, fills the future.

    SQLAlchemy's adapter sets ``isolation_level`` by queueing a function on ``_tx``.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineSQLiteConnection:
    """An aiosqlite-compatible connection whose calls run in the calling thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def begin_immediate(self) -> None:
        """Start a write transaction now (see ``bot.db.engine``: never a lock upgrade later)."""
        self._conn.execute("BEGIN IMMEDIATE")

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close now (SQLAlchemy calls this when it terminates a connection)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_creator(database: str) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` opening ``database`` in-thread."""

    async def connect() -> InlineSQLiteConnection:
        connection = sqlite3.connect(
            database,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,  # the pool may close it from the garbage collector
            uri=database.startswith("file:"),
        )
        return InlineSQLiteConnection(connection)

    return connect
