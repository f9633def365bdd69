"""Review reminders on the job runner: one sweep a minute, each DM claimed before it is sent.

The sweep asks :meth:`ReminderService.to_send` which learners are due a reminder now (their
local time passed, within the grace window; enough reviews due; not claimed yet), then for each
one: claim ``job_claim(kind='reminder', key='<learner>:<local date>')`` in its own short
transaction, and only if this process won it, open the DM and send it (paced by the runner's
one :class:`~bot.jobs.daily.RateLimiter`, shared with daily-quiz posts, so both stay within
Discord's global 50 requests/s), then mark the claim done. Two processes sweeping at once (a
leader being replaced) send one DM: the claim is unique.

What Discord answers decides what happens next:

- :class:`~bot.jobs.ports.DmClosedError` (403, code 50007): reminders are switched off
  (``off_reason='dm_closed'``) and the learner is told the next time they use the bot.
- Any other failure (other 403s, 404, 5xx, 429, the network, a bug): the claim is given back
  and that learner is not tried again before a back-off (2, 4, 8 … 60 minutes); the sweep goes
  on with everyone else. Nothing loops.

A crash between the claim and the send loses that day's reminder rather than risk sending it
twice (the message nonce is derived from the claim, so a retry within Discord's few minutes
would be de-duplicated, but a stale claim is not retried).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.db.base import utcnow
from bot.db.engine import Database
from bot.jobs.daily import RateLimiter
from bot.jobs.ports import DmClosedError, PublishError
from bot.jobs.runner import JobTracker
from bot.services.reminders import ReminderService, ReminderToSend

if TYPE_CHECKING:
    from bot.observe import Observer

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0
#: DMs in flight at once (each still waits for its turn at the shared rate limiter).
CONCURRENT_SENDS = 8
MAX_BACKOFF = timedelta(minutes=60)


class ReminderSender(Protocol):
    """What the reminder sweep needs from Discord (implemented in ``bot/exts/remind``).

    Both methods raise :class:`~bot.jobs.ports.PublishError` subclasses:
    :class:`~bot.jobs.ports.DmClosedError` for 403 code 50007, a retryable error otherwise.
    """

    async def open_dm(self, learner_id: int) -> int:
        """The id of the DM channel with the learner (Discord makes it on first use)."""
        ...

    async def send_reminder(self, channel_id: int, reminder: ReminderToSend) -> int:
        """Send the reminder (with ``reminder.nonce``) and its buttons; the message id."""
        ...


@dataclass
class ReminderOutcome:
    """What became of one reminder, for tests and logs."""

    learner_id: int
    key: str
    message_id: int | None = None
    error: str | None = None
    switched_off: bool = False


class ReminderJobs:
    """The reminder feature of the job runner."""

    name = "reminders"

    def __init__(
        self,
        db: Database,
        service: Callable[[], ReminderService],
        sender: ReminderSender,
        *,
        limiter: RateLimiter,
        clock: Callable[[], datetime] = utcnow,
        sweep_seconds: float = SWEEP_SECONDS,
        observer: Observer | None = None,
    ) -> None:
        self.db = db
        self.service = service
        self.sender = sender
        self.limiter = limiter
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self._jobs = JobTracker("reminders", observer)
        self._busy: set[str] = set()
        self._not_before: dict[int, datetime] = {}
        self._failures: dict[int, int] = {}

    async def begin(self, scheduler: AsyncIOScheduler) -> None:
        """Sweep once a minute, and once now (reminders due while no process led)."""
        scheduler.add_job(self._jobs.wrap(self.sweep), IntervalTrigger(seconds=self.sweep_seconds),
                          id="reminders:sweep", replace_existing=True)
        await self._jobs.wrap(self.sweep)()

    async def end(self) -> None:
        """Let DMs being sent finish (bounded by the caller)."""
        await self._jobs.drain()

    async def sweep(self, now: datetime | None = None) -> list[ReminderOutcome]:
        """Claim and send every reminder due now; what became of each one this process sent."""
        now = now or self.clock()
        service = self.service()
        async with self.db.sessions() as session:
            due = await service.to_send(session, now)
        ready = [
            item for item in due
            if item.key not in self._busy and self._not_before.get(item.learner_id, now) <= now
        ]
        slots = asyncio.Semaphore(CONCURRENT_SENDS)

        async def one(item: ReminderToSend) -> ReminderOutcome | None:
            async with slots:
                return await self._send(service, item, now)

        outcomes = await asyncio.gather(*(one(item) for item in ready))
        return [outcome for outcome in outcomes if outcome is not None]

    async def _send(
        self, service: ReminderService, item: ReminderToSend, now: datetime
    ) -> ReminderOutcome | None:
        self._busy.add(item.key)
        try:
            async with self.db.sessions.begin() as session:
                if not await service.claim(session, item, now):
                    return None  # another sweep (here or in another process) has it
            try:
                await self.limiter.wait()
                channel_id = await self.sender.open_dm(item.learner_id)
                await self.limiter.wait()
                message_id = await self.sender.send_reminder(channel_id, item)
            except DmClosedError as exc:
                async with self.db.sessions.begin() as session:
                    await service.dm_closed(session, item, self.clock())
                log.info("reminders of learner %d switched off: %s", item.learner_id, exc)
                return ReminderOutcome(item.learner_id, item.key, error=str(exc),
                                       switched_off=True)
            except Exception as exc:
                if not isinstance(exc, PublishError):
                    log.exception("sending reminder %s failed unexpectedly", item.key)
                return await self._retry_later(service, item, exc, now)
            async with self.db.sessions.begin() as session:
                await service.mark_sent(session, item, self.clock())
            self._failures.pop(item.learner_id, None)
            self._not_before.pop(item.learner_id, None)
            return ReminderOutcome(item.learner_id, item.key, message_id=message_id)
        finally:
            self._busy.discard(item.key)

    async def _retry_later(
        self, service: ReminderService, item: ReminderToSend, exc: Exception, now: datetime
    ) -> ReminderOutcome:
        async with self.db.sessions.begin() as session:
            await service.release(session, item)
        failures = self._failures.get(item.learner_id, 0) + 1
        self._failures[item.learner_id] = failures
        delay = min(timedelta(minutes=2**failures), MAX_BACKOFF)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delay = max(delay, timedelta(seconds=float(retry_after)))
        self._not_before[item.learner_id] = now + delay
        text = str(exc) or type(exc).__name__
        log.warning("reminder %s not sent (%s); retrying in %s", item.key, text, delay)
        return ReminderOutcome(item.learner_id, item.key, error=text)


__all__ = ["ReminderJobs", "ReminderOutcome", "ReminderSender"]
