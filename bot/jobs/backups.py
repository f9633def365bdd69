"""Scheduled SQLite backups on the job runner, with retention.

With ``backup.schedule = "HH:MM"`` the process that runs the jobs (one per database: the
leader) copies the SQLite database every day at that local time (``backup.timezone``) into
``backup.dir`` with :func:`bot.db.backup.backup` (``VACUUM INTO``: one consistent snapshot
while the bot keeps writing), named ``tutorbot-backup-YYYYMMDDTHHMMSSZ.sqlite3`` (UTC). Then
only the newest ``backup.keep`` files *of that name pattern* are kept: the job never deletes a
file it did not make (a manual ``tutorbot db backup`` copy, anything else in the folder).

A backup missed while no process was running (the newest one is older than the last
scheduled time) is made when this process takes the lead. On PostgreSQL the feature logs that
``pg_dump`` is the way and does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.db.backup import BackupError, backup, pg_dump_hint, sqlite_file
from bot.db.base import utcnow
from bot.jobs.runner import JobTracker

if TYPE_CHECKING:
    from bot.observe import Observer

log = logging.getLogger(__name__)

#: Scheduled backups are named ``tutorbot-backup-20261201T033000Z.sqlite3`` (UTC).
NAME_PATTERN = re.compile(r"^tutorbot-backup-(\d{8}T\d{6}Z)\.sqlite3$")
_STAMP = "%Y%m%dT%H%M%SZ"


def backup_name(moment: datetime) -> str:
    """The file name of a scheduled backup taken at ``moment``."""
    return f"tutorbot-backup-{moment.astimezone(UTC).strftime(_STAMP)}.sqlite3"


def scheduled_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The backups this job made in ``folder`` (by name), oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = NAME_PATTERN.match(path.name)
        if match and path.is_file():
            stamp = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((stamp, path))
    return sorted(found)


def last_due(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The most recent scheduled time at or before ``now`` (``at`` local in ``zone``)."""
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), at, tzinfo=zone)
    return today if today <= local else today - timedelta(days=1)


class BackupJobs:
    """The runner feature that backs up the SQLite database daily and prunes old copies."""

    name = "backup"

    def __init__(
        self,
        database_url: str,
        folder: Path,
        *,
        at: time,
        zone: str = "UTC",
        keep: int = 7,
        clock: Callable[[], datetime] = utcnow,
        observer: Observer | None = None,
    ) -> None:
        self.database_url = database_url
        self.folder = folder
        self.at = at
        self.zone = ZoneInfo(zone)
        self.keep = keep
        self.clock = clock
        self._jobs = JobTracker("backup", observer)

    @classmethod
    def parse_time(cls, text: str) -> time:
        """``"03:30"`` as a time of day (the setting is validated as HH:MM)."""
        hour, minute = text.split(":")
        return time(int(hour), int(minute))

    async def begin(self, scheduler: AsyncIOScheduler) -> None:
        """Schedule the daily backup; make the one missed while down, if any."""
        database = sqlite_file(self.database_url)
        if database is None:
            log.info("backup.schedule is set, but the database is PostgreSQL: the bot makes no "
                     "backups of it. %s", pg_dump_hint(self.database_url, Path("tutorbot.dump")))
            return
        scheduler.add_job(
            self._jobs.wrap(self.run),
            CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.zone),
            id="backup:daily", replace_existing=True,
        )
        newest = scheduled_backups(self.folder)
        if not newest or newest[-1][0] < last_due(self.clock(), self.at, self.zone):
            await self._jobs.wrap(self.run)()

    async def end(self) -> None:
        """Let a backup being written finish (bounded by the caller)."""
        await self._jobs.drain()

    async def run(self) -> Path | None:
        """Make one backup now, then delete the oldest scheduled ones beyond ``keep``."""
        database = sqlite_file(self.database_url)
        if database is None:
            return None
        destination = self.folder / backup_name(self.clock())
        try:
            await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
            size = await asyncio.to_thread(backup, database, destination)
        except (BackupError, OSError) as exc:
            log.error("scheduled backup failed: %s", exc)
            return None
        log.info("scheduled backup: %s (%s bytes)", destination, f"{size:,}")
        await asyncio.to_thread(self.prune)
        return destination

    def prune(self) -> list[Path]:
        """Delete the oldest scheduled backups beyond ``keep``; the files deleted."""
        made = scheduled_backups(self.folder)
        doomed = [path for _, path in made[: max(len(made) - self.keep, 0)]]
        for path in doomed:
            try:
                path.unlink()
            except OSError as exc:
                log.warning("could not delete the old backup %s: %s", path, exc)
        if doomed:
            log.info("deleted %d old backup(s), keeping the newest %d", len(doomed), self.keep)
        return doomed


__all__ = ["NAME_PATTERN", "BackupJobs", "backup_name", "last_due", "scheduled_backups"]
