"""Daily-quiz jobs: fire schedules at their local time, post exactly once, retry, close.

Run by the leader only (:class:`bot.jobs.runner.JobRunner`). Every step goes claim → send →
mark, each database step in its own short transaction (never held across a Discord call):

- **fire**: one APScheduler cron job per active schedule (:func:`trigger_for`, the schedule's
  zone). A fire claims the post of that local date and sends it with the claim's nonce.
- **sync** (every ``jobs.sync_seconds``): re-reads the schedules, so an edit made by any
  process reaches the leader within seconds; jobs of changed schedules are replaced.
- **catch-up** (on taking leadership): each schedule's last due time within the grace window
  is posted if it was never claimed (jobs rebuilt in memory never see runs missed while down).
- **maintain** (every few seconds): claims without a message id are sent again — with the same
  nonce within Discord's de-duplication window (3 minutes), later only after looking for the
  post in the channel's recent messages; posts past their closing time are closed (buttons
  disabled by editing the channel message, results posted).

Only 404/403 pause a schedule (and tell the moderators); 5xx, 429 and network errors are
retried within the grace window, no sooner than ``retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.engine import Database
from bot.db.models.daily import Schedule
from bot.jobs.ports import Publisher, PublishError, RetryableError
from bot.jobs.runner import JobTracker
from bot.services.daily import DailyService, PostToSend
from bot.services.guild_config import GuildConfigService
from bot.services.schedules import ScheduleService, fire_times, trigger_for

if TYPE_CHECKING:
    from bot.observe import Observer
    from bot.runtime import Services

log = logging.getLogger(__name__)

#: Discord returns the first message for a repeated nonce only for a few minutes.
NONCE_WINDOW = timedelta(minutes=3)
MAINTAIN_SECONDS = 5.0
#: Units of work of this feature at once (SQLite has one connection; PostgreSQL a pool of 10).
DB_SLOTS = 4
_SCHEDULE_KEY = (
    Schedule.id, Schedule.updated_at, Schedule.paused_at, Schedule.local_time, Schedule.timezone,
    Schedule.days, Schedule.created_at,
)


class RateLimiter:
    """Spaces calls at most ``rate`` per second across every task (Discord's global limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for this call's turn."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            await asyncio.sleep(delay)


#: A post made later than this after its time counts as late (metrics).
LATE_AFTER = timedelta(minutes=1)


@dataclass
class SendOutcome:
    """What happened to one send, for tests and logs."""

    post_id: int
    message_id: int | None = None
    error: str | None = None
    paused: bool = False
    late: bool = False  # made over LATE_AFTER after its time (a catch-up, a retry)

    def job_counts(self) -> dict[str, int]:
        """For the job's log line and metrics (:class:`bot.jobs.runner.Counted`)."""
        made = self.message_id is not None
        return {"posts_made": int(made), "posts_late": int(made and self.late)}


@dataclass
class MaintainReport:
    """What one maintenance run did: posts sent again, posts given up, posts closed."""

    sent: list[SendOutcome]
    missed: int = 0

    def job_counts(self) -> dict[str, int]:
        """For the job's log line and metrics (:class:`bot.jobs.runner.Counted`)."""
        counts = {"posts_made": 0, "posts_late": 0, "posts_missed": self.missed}
        for outcome in self.sent:
            for name, value in outcome.job_counts().items():
                counts[name] += value
        return counts


class DailyQuizJobs:
    """The daily-quiz feature of the job runner."""

    name = "daily"

    def __init__(
        self,
        db: Database,
        *,
        daily: DailyService | None = None,
        schedules: ScheduleService | None = None,
        guild_config: GuildConfigService | None = None,
        services: Callable[[], Services] | None = None,
        publisher: Publisher,
        grace: timedelta = timedelta(hours=2),
        sync_seconds: float = 10.0,
        send_per_second: float = 45.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        limiter: RateLimiter | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.db = db
        # Either fixed services, or the app's current ones read at each use (``services``),
        # so a live course reload reaches the jobs: they never hold a course by value.
        if services is None:
            if daily is None or schedules is None or guild_config is None:
                raise TypeError("give daily, schedules and guild_config, or services")
            fixed = (daily, schedules, guild_config)
            self._services: Callable[[], tuple[DailyService, ScheduleService,
                                               GuildConfigService]] = lambda: fixed
        else:
            current = services
            self._services = lambda: (current().daily, current().schedules,
                                      current().guild_config)
        self.publisher = publisher
        self.grace = grace
        self.sync_seconds = sync_seconds
        self.clock = clock
        self.rng = rng or random.Random()
        # Shared with the runner's other senders (reminders): one budget for Discord's limit.
        self.limiter = limiter or RateLimiter(send_per_second)
        self.scheduler: AsyncIOScheduler | None = None
        self._known: dict[int, tuple[Any, ...]] = {}
        self._not_before: dict[int, datetime] = {}
        self._busy: set[int] = set()
        self._jobs = JobTracker("daily-quiz", observer)
        self._db_slots = asyncio.Semaphore(DB_SLOTS)

    @property
    def daily(self) -> DailyService:
        """The daily-quiz service (the app's current one)."""
        return self._services()[0]

    @property
    def schedules(self) -> ScheduleService:
        """The schedule service (the app's current one)."""
        return self._services()[1]

    @property
    def guild_config(self) -> GuildConfigService:
        """The guild settings service (the app's current one)."""
        return self._services()[2]

    @contextlib.asynccontextmanager
    async def _unit(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """One short unit of work, a few at a time.

        A thousand schedules firing in the same minute queue here instead of timing out in the
        connection pool.
        """
        async with self._db_slots:
            if write:
                async with self.db.sessions.begin() as session:
                    yield session
            else:
                async with self.db.sessions() as session:
                    yield session

    # --- lifecycle (Feature) ---------------------------------------------------------------

    async def begin(self, scheduler: AsyncIOScheduler) -> None:
        """Add a cron job per schedule, the sync and maintenance jobs; then catch up."""
        self.scheduler = scheduler
        self._known.clear()
        await self.sync()
        scheduler.add_job(self._tracked(self.sync), IntervalTrigger(seconds=self.sync_seconds),
                          id="daily:sync", replace_existing=True)
        scheduler.add_job(self._tracked(self.maintain), IntervalTrigger(seconds=MAINTAIN_SECONDS),
                          id="daily:maintain", replace_existing=True)
        # Counted and logged like the scheduled runs; a failure still fails the start.
        await self._jobs.wrap(self.catch_up, reraise=True)()
        await self._jobs.wrap(self.maintain, reraise=True)()

    async def end(self) -> None:
        """Let sends in flight finish (each is one Discord call), bounded by the caller."""
        self.scheduler = None
        self._known.clear()
        await self._jobs.drain()

    def _tracked(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """Wrap a job so :meth:`end` can wait for it and so it never kills the scheduler."""
        return self._jobs.wrap(fn)

    # --- schedules → APScheduler jobs ------------------------------------------------------

    async def sync(self) -> None:
        """Make the scheduler's cron jobs match the schedule table (changes from any process)."""
        async with self._unit(write=False) as session:
            rows = (await session.execute(select(*_SCHEDULE_KEY))).all()
        scheduler = self.scheduler
        if scheduler is None:
            return
        seen: set[int] = set()
        for row in rows:
            seen.add(row.id)
            key = tuple(row)
            if self._known.get(row.id) == key:
                continue
            self._known[row.id] = key
            job_id = f"daily:{row.id}"
            if row.paused_at is not None:
                if scheduler.get_job(job_id):
                    scheduler.remove_job(job_id)
                continue
            scheduler.add_job(
                self._tracked(self.fire), trigger_for(row.local_time, row.timezone, row.days),
                args=[row.id], id=job_id, replace_existing=True,
            )
        for gone in set(self._known) - seen:
            del self._known[gone]
            if scheduler.get_job(f"daily:{gone}"):
                scheduler.remove_job(f"daily:{gone}")

    # --- posting ---------------------------------------------------------------------------

    def _last_due(self, row: Any, now: datetime) -> datetime | None:
        """The schedule's latest fire time up to ``now`` within the grace window."""
        start = max(now - self.grace, row.created_at)
        fires = fire_times(row.local_time, row.timezone, row.days, start,
                           now + timedelta(microseconds=1))
        return fires[-1] if fires else None

    async def fire(self, schedule_id: int, now: datetime | None = None) -> SendOutcome | None:
        """A schedule's time came: claim today's post and send it (``None``: nothing to do).

        The due time is the schedule's latest fire time up to now, so the second fire of a
        fall-back day maps to the same local date as the first and finds it claimed.
        """
        now = now or self.clock()
        async with self._unit() as session:
            row = await session.get(Schedule, schedule_id, populate_existing=True)
            if row is None or row.paused_at is not None:
                return None
            due = self._last_due(row, now)
            if due is None:
                return None
            claimed = await self.daily.claim(session, schedule_id, due, now=now, rng=self.rng,
                                             schedule=row)
        return await self._claimed(schedule_id, claimed, now)

    async def post(
        self, schedule_id: int, due_at: datetime, *, now: datetime | None = None
    ) -> SendOutcome | None:
        """Claim the post of ``due_at``'s local date and, if this call won it, send it."""
        now = now or self.clock()
        async with self._unit() as session:
            claimed = await self.daily.claim(session, schedule_id, due_at, now=now, rng=self.rng)
        return await self._claimed(schedule_id, claimed, now)

    async def _claimed(
        self, schedule_id: int, claimed: PostToSend | None, now: datetime
    ) -> SendOutcome | None:
        if claimed is None:
            return None
        log.info("daily quiz %s: claimed post %s for %s", schedule_id, claimed.post_id,
                 claimed.local_date)
        return await self._send(claimed, now)

    async def catch_up(self, now: datetime | None = None) -> list[SendOutcome]:
        """Post each schedule's last due time within the grace window if it was never claimed."""
        now = now or self.clock()
        async with self._unit(write=False) as session:
            ids = list(await session.scalars(
                select(Schedule.id).where(Schedule.paused_at.is_(None)).order_by(Schedule.id)
            ))
        outcomes = await asyncio.gather(*(self.fire(sid, now) for sid in ids))
        return [outcome for outcome in outcomes if outcome is not None]

    async def _send(self, post: PostToSend, now: datetime, *, resend: bool = False) -> SendOutcome:
        if post.post_id in self._busy:
            return SendOutcome(post.post_id, error="already being sent")
        self._busy.add(post.post_id)
        try:
            if resend and now - post.claimed_at >= NONCE_WINDOW:
                # Discord no longer de-duplicates this nonce: look before sending again.
                found = await self.publisher.find_daily(post)
                if found is not None:
                    async with self._unit() as session:
                        await self.daily.mark_posted(session, post.post_id, found, now)
                    return SendOutcome(post.post_id, message_id=found,
                                       late=now - post.due_at > LATE_AFTER)
            await self.limiter.wait()
            message_id = await self.publisher.post_daily(post)
        except PublishError as exc:
            return await self._failed(post, exc, now)
        except Exception as exc:
            log.exception("posting daily quiz %s failed unexpectedly", post.post_id)
            return await self._failed(post, RetryableError(f"unexpected: {type(exc).__name__}"),
                                      now)
        finally:
            self._busy.discard(post.post_id)
        posted_at = self.clock()
        async with self._unit() as session:
            await self.daily.mark_posted(session, post.post_id, message_id, posted_at)
        self._not_before.pop(post.post_id, None)
        return SendOutcome(post.post_id, message_id=message_id,
                           late=max(now, posted_at) - post.due_at > LATE_AFTER)

    async def _failed(self, post: PostToSend, exc: PublishError, now: datetime) -> SendOutcome:
        text = str(exc) or type(exc).__name__
        if exc.permanent:
            reason = f"Discord refused the post in <#{post.channel_id}>: {text}"
            async with self._unit() as session:
                await self.daily.record_attempt_failed(session, post.post_id, text,
                                                       permanent=True, now=now)
                view = None
                if post.schedule_id is not None:
                    view = await self.schedules.pause_for_failure(session, post.schedule_id,
                                                                  reason, now)
                settings = await self.guild_config.get(session, post.guild_id)
            log.warning("daily quiz post %s: %s; schedule paused", post.post_id, text)
            if view is not None:
                try:
                    await self.publisher.notify_paused(view, reason, settings.notice_channel_id)
                except Exception:
                    log.exception("could not tell moderators that schedule %s paused", view.id)
            return SendOutcome(post.post_id, error=text, paused=view is not None)
        retry_after = getattr(exc, "retry_after", None) or 0.0
        delay = max(retry_after, min(60.0, 5.0 * 2 ** min(post.attempts, 4)))
        self._not_before[post.post_id] = now + timedelta(seconds=delay)
        async with self._unit() as session:
            await self.daily.record_attempt_failed(session, post.post_id, text, permanent=False,
                                                   now=now)
        log.warning("daily quiz post %s failed (%s); retrying in %.0f s", post.post_id, text,
                    delay)
        return SendOutcome(post.post_id, error=text)

    # --- retries and closing ---------------------------------------------------------------

    async def maintain(self, now: datetime | None = None) -> MaintainReport:
        """Retry claims without a message, then close posts whose time is up."""
        now = now or self.clock()
        report = await self._retry_unposted(now)
        await self.close_due(now)
        return report

    async def retry_unposted(self, now: datetime | None = None) -> list[SendOutcome]:
        """Send again every claim left without a message id (crash or failure after the claim)."""
        return (await self._retry_unposted(now or self.clock())).sent

    async def _retry_unposted(self, now: datetime) -> MaintainReport:
        async with self._unit() as session:
            given_up = await self.daily.give_up_unposted(session, before=now - self.grace, now=now)
            pending = await self.daily.unposted(session, since=now - self.grace)
        if given_up:
            log.warning("%d daily quiz post(s) could not be made within the grace window",
                        given_up)
        outcomes = []
        for post in pending:
            if post.post_id in self._busy or self._not_before.get(post.post_id, now) > now:
                continue
            outcomes.append(await self._send(post, now, resend=True))
        return MaintainReport(outcomes, missed=given_up)

    async def close_due(self, now: datetime | None = None) -> list[int]:
        """Close posts past their closing time: disable buttons, post results. Ids closed."""
        now = now or self.clock()
        async with self._unit(write=False) as session:
            due = await self.daily.due_to_close(session, now)
        closed = []
        for post_id in due:
            if post_id in self._busy:
                continue
            self._busy.add(post_id)
            try:
                await self._close(post_id, now)
                closed.append(post_id)
            except RetryableError as exc:
                log.warning("closing daily quiz %s failed (%s); will retry", post_id, exc)
            except Exception:
                log.exception("closing daily quiz %s failed; will retry", post_id)
            finally:
                self._busy.discard(post_id)
        return closed

    async def _close(self, post_id: int, now: datetime) -> None:
        async with self._unit() as session:
            results = await self.daily.close(session, post_id, now)
        if results is None:
            log.info("daily quiz %s closed without results: its question was removed from the "
                     "course", post_id)
            return
        if results.results_message_id is not None:
            return
        try:
            await self.limiter.wait()
            await self.publisher.close_daily(results)
            await self.limiter.wait()
            message_id = await self.publisher.post_results(results)
        except PublishError as exc:
            if not exc.permanent:
                raise
            log.warning("daily quiz %s: results cannot be posted (%s)", post_id, exc)
            message_id = 0  # 0: nowhere to post them; never retried
        async with self._unit() as session:
            await self.daily.mark_results_posted(session, post_id, message_id)


__all__ = ["NONCE_WINDOW", "DailyQuizJobs", "RateLimiter", "SendOutcome"]
