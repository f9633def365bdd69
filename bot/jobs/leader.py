"""Leadership: which one of several bot processes runs the scheduled jobs.

PostgreSQL
    A *session-level* advisory lock (``pg_try_advisory_lock``) held on a dedicated connection
    opened outside the pool (no pre-ping, no recycle: the pool would hand the connection to
    someone else or close it, silently dropping the lock). The leader checks its connection
    every few seconds; on any error it steps down at once. TCP keepalives on both ends (server
    settings ``tcp_keepalives_*`` and the client socket) make a partitioned leader's session
    die within ~30 s, which releases the lock for another process. A killed process's socket
    closes at once, so the lock is free by the next check of the others.

    Session-level locks do **not** work behind PgBouncer in *transaction* pooling mode (the
    session belongs to whichever client runs a transaction): point the bot at PostgreSQL
    directly or at a session-mode pool.

SQLite
    One process runs jobs: an exclusive ``flock`` on a lock file next to the database. A second
    process logs that another one runs the jobs and keeps trying (it takes over when the first
    exits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: Fixed advisory-lock key: "tbjobs" as a number (distinct from the migration lock's key).
LEADER_LOCK_KEY = 0x74626A6F6273
_CHECK_TIMEOUT_S = 5.0


class Leadership(Protocol):
    """Seek, keep and give up the right to run jobs."""

    description: str

    async def try_acquire(self) -> bool:
        """Become leader if nobody is; ``True`` if this process now leads."""
        ...

    async def still_held(self) -> bool:
        """Check leadership is still ours (``False`` on any doubt: the caller steps down)."""
        ...

    async def release(self) -> None:
        """Give up leadership (idempotent)."""
        ...


class AlwaysLeader:
    """One process, nothing to share (an in-memory database, tests)."""

    description = "the only process"

    async def try_acquire(self) -> bool:
        """Take the leadership if it is free; whether this process holds it now."""
        return True

    async def still_held(self) -> bool:
        """Whether this process still holds the leadership."""
        return True

    async def release(self) -> None:
        """Give the leadership up (no-op when not held)."""
        return None


class FileLockLeadership:
    """SQLite: an exclusive lock on a file next to the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._fd: int | None = None
        self._told = False

    async def try_acquire(self) -> bool:
        """Take the leadership if it is free; whether this process holds it now."""
        import fcntl

        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            if not self._told:
                log.warning(
                    "another process runs the scheduled jobs (it holds %s); this one does not "
                    "and will take over if that process stops", self.path,
                )
                self._told = True
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        self._told = False
        return True

    async def still_held(self) -> bool:
        """Whether this process still holds the leadership."""
        return self._fd is not None

    async def release(self) -> None:
        """Give the leadership up (no-op when not held)."""
        import fcntl

        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class PostgresLeadership:
    """PostgreSQL: a session-level advisory lock on its own connection (see the module doc)."""

    def __init__(self, url: str, *, key: int = LEADER_LOCK_KEY, keepalive_s: int = 10) -> None:
        parsed = make_url(url)
        self._connect_kwargs: dict[str, Any] = {
            "host": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": parsed.username,
            "password": parsed.password,
            "database": parsed.database,
            "timeout": 10,
            # The server probes the client: a partitioned leader's session ends, and its
            # lock is released, within idle + interval × count seconds.
            "server_settings": {
                "application_name": "tutorbot-jobs-leader",
                "tcp_keepalives_idle": str(keepalive_s),
                "tcp_keepalives_interval": str(max(1, keepalive_s // 2)),
                "tcp_keepalives_count": "3",
            },
        }
        self.description = f"PostgreSQL advisory lock {key} at {parsed.host}"
        self.key = key
        self.keepalive_s = keepalive_s
        self._conn: Any = None
        self._told = False

    async def try_acquire(self) -> bool:
        """Take the leadership if it is free; whether this process holds it now."""
        import asyncpg

        if self._conn is not None:
            return await self.still_held()
        try:
            conn = await asyncpg.connect(**self._connect_kwargs)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("cannot reach PostgreSQL to seek job leadership: %s", type(exc).__name__)
            return False
        self._keepalive(conn)
        try:
            won = await asyncio.wait_for(
                conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), _CHECK_TIMEOUT_S
            )
        except Exception:
            await self._close(conn)
            return False
        if not won:
            await self._close(conn)
            if not self._told:
                log.info("another process leads the scheduled jobs; this one stands by")
                self._told = True
            return False
        self._conn = conn
        self._told = False
        return True

    def _keepalive(self, conn: Any) -> None:
        """Client-side TCP keepalives, so this end notices a dead server too."""
        transport = getattr(conn, "_transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            return
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, self.keepalive_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, self.keepalive_s // 2))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)

    async def still_held(self) -> bool:
        """Whether this process still holds the leadership."""
        if self._conn is None:
            return False
        try:
            held = await asyncio.wait_for(
                self._conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = $1",
                    self.key,
                ),
                _CHECK_TIMEOUT_S,
            )
        except Exception as exc:  # any doubt: step down
            log.warning("lost the job-leader connection (%s); stepping down", type(exc).__name__)
            await self.release()
            return False
        if not held:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        """Give the leadership up (no-op when not held)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._close(conn)

    @staticmethod
    async def _close(conn: Any) -> None:
        # Closing the session releases a session-level advisory lock.
        try:
            await asyncio.wait_for(conn.close(), 3)
        except Exception:
            conn.terminate()


def leadership_for(database_url: str) -> Leadership:
    """The leadership mechanism that fits the database."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeadership(database_url)
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return AlwaysLeader()
    path = Path(database).expanduser()
    return FileLockLeadership(path.with_name(path.name + ".jobs.lock"))


__all__ = [
    "LEADER_LOCK_KEY",
    "AlwaysLeader",
    "FileLockLeadership",
    "Leadership",
    "PostgresLeadership",
    "leadership_for",
]
