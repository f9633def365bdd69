"""The maintainers' jobs on the runner: the weekly digest, and pruning old ``/ask`` logs.

The digest goes to each guild's notice channel (``/config``) once per (guild, ISO week): the
leader claims ``("digest", "<guild>:<week>")`` in ``job_claim`` before it posts, so a restart, a
second process or a late catch-up never posts a week twice. The week is the guild's own (its
time zone from ``/config``), and the digest is due from the configured weekday and hour. A post
that fails with a retryable error gives its claim back, so the next run tries again; a channel
that is gone or forbidden is skipped for that week (the moderators' failure notices of the
daily quiz cover broken channels).

Pruning deletes ``/ask`` log rows older than ``maintainers.ask_log_retention_days``; feedback on
them keeps its rating and loses only the link (``ON DELETE SET NULL``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select, update

from bot.db.base import utcnow
from bot.db.engine import Database
from bot.db.models.ask import AskLog
from bot.db.models.daily import GuildConfig, JobClaim
from bot.db.upsert import insert_ignore
from bot.jobs.ports import PublishError, RetryableError
from bot.jobs.runner import JobTracker
from bot.services.maintain import Digest, MaintainService, iso_week

if TYPE_CHECKING:
    from bot.observe import Observer

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"
CHECK_MINUTES = 10
PRUNE_HOURS = 6


class DigestPoster(Protocol):
    """What the digest job needs from Discord (implemented by the maintainers' extension)."""

    async def post_digest(self, channel_id: int, digest: Digest, nonce: str) -> int:
        """Post ``digest`` in ``channel_id`` with ``nonce``; the message id.

        Raises :class:`~bot.jobs.ports.PublishError` subclasses: retryable, gone or forbidden.
        """
        ...


def digest_due(now: datetime, zone: str, weekday: int, hour: int) -> bool:
    """Whether this week's digest is due at ``now`` in ``zone`` (from weekday/hour on)."""
    local = now.astimezone(ZoneInfo(zone))
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    due = monday + timedelta(days=weekday, hours=hour)
    return local >= due


class MaintainerJobs:
    """The runner feature that posts weekly digests and prunes the /ask log."""

    name = "maintainers"

    def __init__(
        self,
        db: Database,
        service: MaintainService | Callable[[], MaintainService],
        poster: DigestPoster,
        *,
        weekday: int = 0,
        hour: int = 9,
        retention_days: int = 180,
        clock: Callable[[], datetime] = utcnow,
        observer: Observer | None = None,
    ) -> None:
        self.db = db
        # A callable gives the service over the app's current course at each use (a live
        # reload reaches the digest); a service is used as is.
        if isinstance(service, MaintainService):
            fixed = service
            self._service: Callable[[], MaintainService] = lambda: fixed
        else:
            self._service = service
        self.poster = poster
        self.weekday = weekday
        self.hour = hour
        self.retention_days = retention_days
        self.clock = clock
        self._jobs = JobTracker("maintainers", observer)

    @property
    def service(self) -> MaintainService:
        """The maintainers' service over the current course."""
        return self._service()

    async def begin(self, scheduler: AsyncIOScheduler) -> None:
        """Check for due digests every few minutes and prune every few hours; catch up now."""
        scheduler.add_job(self._jobs.wrap(self.digests), IntervalTrigger(minutes=CHECK_MINUTES),
                          id="maintainers:digest", replace_existing=True)
        scheduler.add_job(self._jobs.wrap(self.prune), IntervalTrigger(hours=PRUNE_HOURS),
                          id="maintainers:prune", replace_existing=True)
        await self._jobs.wrap(self.digests)()
        await self._jobs.wrap(self.prune)()

    async def end(self) -> None:
        """Let a digest being posted finish (bounded by the caller)."""
        await self._jobs.drain()

    async def digests(self, now: datetime | None = None) -> list[int]:
        """Post every due, unclaimed digest; the ids of the messages posted."""
        moment = now or self.clock()
        async with self.db.sessions() as session:
            guilds = (await session.execute(
                select(GuildConfig.guild_id, GuildConfig.timezone, GuildConfig.notice_channel_id)
                .where(GuildConfig.notice_channel_id.is_not(None))
            )).all()
        posted = []
        for guild_id, zone, channel_id in guilds:
            if channel_id is None or not digest_due(moment, zone, self.weekday, self.hour):
                continue
            week = iso_week(moment.astimezone(ZoneInfo(zone)))
            key = f"{guild_id}:{week}"
            async with self.db.sessions.begin() as session:
                won = await insert_ignore(session, JobClaim, kind=DIGEST_KIND, key=key,
                                          claimed_at=moment)
                digest = await self.service.digest(session, guild_id, now=moment) if won else None
            if digest is None:
                continue
            message_id = None
            if not digest.empty:
                try:
                    message_id = await self.poster.post_digest(
                        channel_id, digest, nonce=f"dg{guild_id % 10**12}{week[-3:]}"
                    )
                except RetryableError as exc:
                    log.warning("digest for guild %d: %s; will retry", guild_id, exc)
                    async with self.db.sessions.begin() as session:
                        await session.execute(delete(JobClaim).where(
                            JobClaim.kind == DIGEST_KIND, JobClaim.key == key))
                    continue
                except PublishError as exc:
                    log.warning("digest for guild %d skipped this week: %s", guild_id, exc)
            async with self.db.sessions.begin() as session:
                await session.execute(update(JobClaim).where(
                    JobClaim.kind == DIGEST_KIND, JobClaim.key == key).values(done_at=self.clock()))
            if message_id is not None:
                posted.append(message_id)
        return posted

    async def prune(self, now: datetime | None = None) -> int:
        """Delete /ask log rows past the retention; how many were deleted."""
        if self.retention_days <= 0:
            return 0
        cutoff = (now or self.clock()) - timedelta(days=self.retention_days)
        async with self.db.sessions.begin() as session:
            result = await session.execute(delete(AskLog).where(AskLog.created_at < cutoff))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            log.info("pruned %d /ask log rows older than %d days", count, self.retention_days)
        return count
