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

Another *process* holding SQLite's write lock (a backup, a ``sqlite3`` shell, a second bot by
mistake) must not freeze the event loop: the connection's ``busy_timeout`` is only
:data:`BUSY_TIMEOUT_MS` (20 ms, on the loop), and :meth:`InlineSQLiteConnection.begin_immediate`
retries after that with ``asyncio.sleep`` back-off until the deadline of the current unit of
work (:func:`lock_wait`), calling its "about to wait" callback once before the first retry (the
Discord adapter defers the interaction there). Past the deadline it raises
:class:`~bot.errors.DatabaseBusyError`, with nothing written. Within one process our single
pooled connection never waits on a lock; other units of work queue for it without blocking the
loop. Several bot processes should share PostgreSQL, not SQLite (README, "Configuration").
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.util import await_only

from bot.errors import DatabaseBusyError

log = logging.getLogger(__name__)

#: How long a statement may block the event loop waiting for another process's lock (ms).
BUSY_TIMEOUT_MS = 20
#: How long opening the connection (once per process) may wait for a lock (ms).
CONNECT_BUSY_TIMEOUT_MS = 10_000
#: How long a unit of work without its own deadline (console, jobs) waits for the lock (s).
DEFAULT_LOCK_WAIT_S = 10.0
#: Back-off between attempts at the write lock: doubling from the first to the last (s).
FIRST_BACKOFF_S = 0.02
MAX_BACKOFF_S = 0.25


@dataclass
class LockWait:
    """How long the current unit of work may wait for the write lock, and whom to tell."""

    deadline: float  # event-loop time
    on_wait: Callable[[], Awaitable[None]] | None = None


_lock_wait: contextvars.ContextVar[LockWait | None] = contextvars.ContextVar(
    "tutorbot_sqlite_lock_wait", default=None
)


@contextmanager
def lock_wait(
    seconds: float, on_wait: Callable[[], Awaitable[None]] | None = None
) -> Iterator[LockWait]:
    """Within this block (and tasks created in it) wait at most ``seconds`` for the lock.

    ``on_wait`` is awaited once, just before the first retry: the unit of work is about to take
    longer than usual (the Discord adapter defers the interaction).
    """
    policy = LockWait(asyncio.get_running_loop().time() + seconds, on_wait)
    token = _lock_wait.set(policy)
    try:
        yield policy
    finally:
        _lock_wait.reset(token)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


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
        """Start a write transaction now (see ``bot.db.engine``: never a lock upgrade later).

        Runs inside SQLAlchemy's greenlet bridge (the engine's "begin" event), so it can wait
        for another process's lock with ``asyncio.sleep`` instead of blocking the loop.
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        await_only(self._wait_for_lock())

    async def _wait_for_lock(self) -> None:
        loop = asyncio.get_running_loop()
        policy = _lock_wait.get() or LockWait(loop.time() + DEFAULT_LOCK_WAIT_S)
        log.info("the SQLite database is locked by another process; waiting")
        if policy.on_wait is not None:
            on_wait, policy.on_wait = policy.on_wait, None  # once per unit of work
            try:
                await on_wait()
            except Exception:  # e.g. the interaction expired: the work itself is still valid
                log.warning("the 'about to wait' callback failed", exc_info=True)
        backoff = FIRST_BACKOFF_S
        while True:
            left = policy.deadline - loop.time()
            if left <= 0:
                raise DatabaseBusyError()
            await asyncio.sleep(min(backoff, left))
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise

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
