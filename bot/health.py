"""Is this process healthy? Shards connected, the database sound; and the bot's heartbeat.

:class:`Health` is what ``/healthz`` answers from (:mod:`bot.metrics`): unhealthy only when a
shard has been down for over :data:`SHARD_DOWN_AFTER_S` (a normal RESUME takes a second or
two and must not flap it) or the database is damaged or failing its check.

:class:`DatabaseHealthWorker` is a lifecycle worker of the running bot. It writes a heartbeat to
``app_state`` every :data:`HEARTBEAT_SECONDS` (``tutorbot db restore`` refuses while one is
younger than a minute) and, on SQLite, runs ``quick_check`` once at start in a thread, so a
large file never delays the start: a damaged file logs one line for the operator and turns
``/healthz`` to 503.

This module is domain code: it never imports ``discord``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, text

from bot.db.models.app_state import HEARTBEAT_KEY_PREFIX, KEY_MAX_CHARS, AppState
from bot.lifecycle import raise_if_cancelled

if TYPE_CHECKING:
    from bot.db.engine import Database
    from bot.observe import Observer

log = logging.getLogger(__name__)

#: A shard disconnected for longer than this makes the process unhealthy.
SHARD_DOWN_AFTER_S = 60.0
#: How often the running bot writes its heartbeat.
HEARTBEAT_SECONDS = 15.0
#: Heartbeats older than this are left behind by a process that no longer runs; removed.
STALE_HEARTBEAT = timedelta(days=1)
#: How long ``/healthz`` waits for the database check.
DATABASE_CHECK_S = 2.0
#: What SQLite says, in some form, about a file whose pages are damaged.
DAMAGE_MARKERS = ("database disk image is malformed", "file is not a database")


def is_damaged_database(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is SQLite reporting a damaged file."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(marker in str(current) for marker in DAMAGE_MARKERS):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
            continue
        current = current.__cause__ or current.__context__
    return False


class Health:
    """The state ``/healthz`` reports: shards down since when, the database damaged or not.

    ``clock`` (monotonic seconds) is injectable so a test can let a minute pass at once.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic,
        shard_down_after_s: float = SHARD_DOWN_AFTER_S,
    ) -> None:
        self.clock = clock
        self.shard_down_after_s = shard_down_after_s
        self._down_since: dict[int, float] = {}
        self._waiting_since: float | None = None
        self.database_damage: str | None = None

    # --- the gateway ---------------------------------------------------------------------

    def gateway_starting(self) -> None:
        """The bot is connecting: no shard has connected yet, and the clock runs from now."""
        if self._waiting_since is None:
            self._waiting_since = self.clock()

    def shard_connected(self, shard_id: int) -> None:
        """A shard connected, resumed or became ready."""
        self._down_since.pop(shard_id, None)
        self._waiting_since = None

    def shard_disconnected(self, shard_id: int) -> None:
        """A shard lost its connection (it usually resumes within seconds)."""
        self._down_since.setdefault(shard_id, self.clock())

    def gateway_closed(self) -> None:
        """The bot closed its connections on purpose (stopping): nothing is down."""
        self._down_since.clear()
        self._waiting_since = None

    def shards_down(self) -> dict[int, float]:
        """Each disconnected shard and for how many seconds it has been down."""
        now = self.clock()
        return {shard: now - since for shard, since in sorted(self._down_since.items())}

    def gateway_problems(self) -> list[str]:
        """What is wrong with the gateway, for ``/healthz`` (empty when nothing is)."""
        limit = self.shard_down_after_s
        problems = [
            f"shard {shard} has been disconnected for {seconds:.0f} s"
            for shard, seconds in self.shards_down().items() if seconds > limit
        ]
        if self._waiting_since is not None and self.clock() - self._waiting_since > limit:
            problems.append(f"no shard has connected in {limit:.0f} s since the start")
        return problems

    # --- the database --------------------------------------------------------------------

    def database_damaged(self, reason: str) -> bool:
        """Mark the database damaged; ``True`` the first time (log it once)."""
        first = self.database_damage is None
        if first:
            self.database_damage = reason
        return first


async def check_database(db: Database) -> None:
    """A read of a real table, bounded in time; raises what the database raised."""

    async def read() -> None:
        async with db.sessions() as session:
            await session.execute(text("SELECT count(*) FROM app_state"))

    await asyncio.wait_for(read(), DATABASE_CHECK_S)


def heartbeat_key() -> str:
    """This process's heartbeat key in ``app_state``: ``heartbeat:<host>:<pid>``."""
    key = f"{HEARTBEAT_KEY_PREFIX}{socket.gethostname()}"[: KEY_MAX_CHARS - 12]
    return f"{key}:{os.getpid()}"


def heartbeat_value(now: datetime | None = None) -> str:
    """What a heartbeat row holds: when it was written (UTC) and by which process."""
    now = now or datetime.now(UTC)
    return json.dumps({"at": now.isoformat(), "pid": os.getpid(), "host": socket.gethostname()})


class DatabaseHealthWorker:
    """The running bot's heartbeat and its start-up integrity check (a lifecycle worker)."""

    name = "database-health"

    def __init__(
        self, observer: Observer, db: Database, *, interval_s: float = HEARTBEAT_SECONDS
    ) -> None:
        self.observer = observer
        self.db = db
        self.interval_s = interval_s
        self.key = heartbeat_key()
        self._tasks: list[asyncio.Task[None]] = []
        self._failing = False

    async def start(self) -> None:
        """Write the first heartbeat in the background; start the check (SQLite)."""
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._beat(), name="heartbeat"))
        if self.db.dialect == "sqlite":
            self._tasks.append(loop.create_task(self._startup_check(), name="start-up check"))

    async def stop(self) -> None:
        """Stop beating and remove this process's heartbeat (a restore may go ahead)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            async with self.db.sessions.begin() as session:
                await session.execute(delete(AppState).where(AppState.key == self.key))

    async def beat(self) -> None:
        """Write the heartbeat once (and remove those of processes gone for a day)."""
        from bot.services.app_state import AppStateService

        now = datetime.now(UTC)
        async with self.db.sessions.begin() as session:
            await AppStateService().write(session, self.key, heartbeat_value(now))
            await session.execute(
                delete(AppState).where(
                    AppState.key.startswith(HEARTBEAT_KEY_PREFIX),
                    AppState.updated_at < now - STALE_HEARTBEAT,
                )
            )

    async def _beat(self) -> None:
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelled()  # a cancellation the database driver turned into an error
                if not self.observer.database_failed(exc) and not self._failing:
                    log.warning("could not write the heartbeat to the database: %s", exc)
                self._failing = True
            else:
                self._failing = False
            await asyncio.sleep(self.interval_s)
            raise_if_cancelled()

    async def _startup_check(self) -> None:
        from bot.db.backup import BackupError, check, sqlite_file

        try:
            path = sqlite_file(self.db.engine.url)
        except BackupError:  # in memory: nothing on disk to check
            return
        if path is None or not path.exists():
            return
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(check, path)
        except BackupError as exc:  # locked by another process for long: not a verdict
            log.warning("start-up integrity check skipped: %s", exc)
            return
        if result.ok:
            log.info("start-up integrity check: %s is not damaged (%.1f s)", path,
                     time.monotonic() - started)
            return
        # quick_check's first line may be a heading ("*** in database main ***").
        problems = [p for p in result.problems if not p.startswith("***")] or result.problems
        self.observer.database_damaged(problems[0])


__all__ = [
    "HEARTBEAT_SECONDS",
    "SHARD_DOWN_AFTER_S",
    "DatabaseHealthWorker",
    "Health",
    "check_database",
    "heartbeat_key",
    "heartbeat_value",
    "is_damaged_database",
]
