"""Review reminders: a learner's opt-in daily DM when enough reviews are due.

A learner turns reminders on with a local time of day (``/remind on 18:30``). From that time
on, within the job runner's grace window, the sweep (:mod:`bot.jobs.reminders`) finds them due
when at least ``review.remind_min_due`` of their review cards are due, claims
``job_claim(kind='reminder', key='<learner>:<local date>')`` and only then sends the DM: one a
day, whichever process sweeps.
"Snooze 1 h" asks for one re-send that day (claimed as ``'<learner>:<local date>:snooze'``).

Times follow the learner's zone (``learner.timezone``) across DST: 18:30 stays 18:30 local; a
time skipped by a spring-forward falls as far after the gap as it was into it; a repeated hour
sends once (the claim is per local date).

Only Discord's "cannot send messages to this user" (403, code 50007) switches reminders off,
with ``off_reason='dm_closed'`` and ``notice_pending``: the learner is told the next time they
use the bot (:meth:`ReminderService.take_notice`, called from the unit of work).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course
from bot.db.base import utcnow
from bot.db.models import Learner, Reminder, ReviewCard
from bot.db.models.daily import NONCE_MAX_CHARS, JobClaim
from bot.db.upsert import insert_ignore, upsert
from bot.errors import InvalidInputError
from bot.services.schedules import parse_local_time

#: The ``job_claim`` kind of reminder DMs.
CLAIM_KIND = "reminder"
#: When ``/remind on`` names no time (and none was set before).
DEFAULT_TIME = time(18, 0)
SNOOZE = timedelta(hours=1)
#: How many due reviews the "Review now" button starts with.
REVIEW_NOW = 5
#: Why reminders are off (``reminder.off_reason``).
OFF_BY_LEARNER = "learner"
OFF_DM_CLOSED = "dm_closed"
DM_CLOSED_NOTICE = (
    "\U0001f515 Your review reminders are off: Discord would not let me send you a direct "
    "message. To get them again, allow direct messages from members of a server we share "
    "(the server's Privacy Settings), then run `/remind on`."
)


def zone_of(name: str) -> ZoneInfo:
    """The learner's zone; an unknown name (a zone removed from tzdata) falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def reminder_moment(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    """When a reminder at ``local_time`` falls on local ``day``, as an aware UTC datetime.

    As for daily quizzes, a time that does not exist that day (spring forward: 02:30 in
    Europe/Berlin) falls as far after the gap as it was into it (03:30); a time that happens
    twice (fall back) is its first occurrence.
    """
    wall = datetime.combine(day, local_time).replace(tzinfo=zone, fold=0)
    return wall.astimezone(UTC)


def claim_key(learner_id: int, local_date: date, *, resend: bool = False) -> str:
    """The ``job_claim`` key of one reminder DM."""
    return f"{learner_id}:{local_date.isoformat()}" + (":snooze" if resend else "")


def nonce_of(key: str) -> str:
    """A message nonce for a claim key (≤ 25 characters; Discord de-duplicates a re-send)."""
    return ("rm" + hashlib.sha256(key.encode()).hexdigest())[:NONCE_MAX_CHARS]


@dataclass(frozen=True)
class ReminderView:
    """A learner's reminder setting, for /remind's replies."""

    enabled: bool
    local_time: time
    timezone: str
    default_zone: bool  # the learner's zone is the bot's default: say so, and how to change it
    min_due: int
    next_at: datetime | None  # UTC: the next day the reminder may go (if enough are due)
    off_reason: str | None


@dataclass(frozen=True)
class ReminderToSend:
    """A reminder DM the sweep found due (not yet claimed)."""

    learner_id: int
    local_date: date
    due: int  # reviews due now
    resend: bool  # the snoozed re-send (no second snooze)
    key: str
    nonce: str


@dataclass(frozen=True)
class Snoozed:
    """A snooze's outcome: when the re-send comes."""

    until: datetime


class ReminderService:
    """Turns reminders on and off, finds the ones due, and records what became of each DM."""

    def __init__(
        self,
        course: Course,
        *,
        min_due: int = 5,
        default_timezone: str = "UTC",
        grace: timedelta = timedelta(hours=2),
    ) -> None:
        self.course = course
        self.min_due = min_due
        self.default_timezone = default_timezone
        self.grace = grace

    # --- the learner's setting -------------------------------------------------------------

    async def _timezone(self, session: AsyncSession, learner_id: int) -> str:
        zone = await session.scalar(select(Learner.timezone).where(Learner.id == learner_id))
        return zone or self.default_timezone

    def _view(self, row: Reminder, zone: str, now: datetime) -> ReminderView:
        tz = zone_of(zone)
        next_at = None
        if row.enabled:
            today = now.astimezone(tz).date()
            for day in (today, today + timedelta(days=1)):
                moment = reminder_moment(day, row.local_time, tz)
                if moment > now:
                    next_at = moment
                    break
        return ReminderView(
            enabled=row.enabled, local_time=row.local_time, timezone=zone,
            default_zone=zone == self.default_timezone, min_due=self.min_due, next_at=next_at,
            off_reason=row.off_reason,
        )

    async def get(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> ReminderView | None:
        """The learner's reminder setting (``None``: never turned on)."""
        row = await session.get(Reminder, learner_id, populate_existing=True)
        if row is None:
            return None
        return self._view(row, await self._timezone(session, learner_id), now or utcnow())

    async def turn_on(
        self,
        session: AsyncSession,
        learner_id: int,
        local_time: str | time | None = None,
        now: datetime | None = None,
    ) -> ReminderView:
        """Remind the learner daily at ``local_time`` (their zone); keeps the old time if none."""
        now = now or utcnow()
        existing = await session.get(Reminder, learner_id, populate_existing=True)
        if local_time is not None:
            chosen = parse_local_time(local_time)
        else:
            chosen = existing.local_time if existing is not None else DEFAULT_TIME
        await upsert(
            session, Reminder,
            {
                "learner_id": learner_id, "enabled": True, "local_time": chosen,
                "min_due": self.min_due, "snoozed_until": None, "resent_on": None,
                "off_reason": None, "notice_pending": False, "updated_at": now,
            },
            update=("enabled", "local_time", "min_due", "snoozed_until", "off_reason",
                    "notice_pending", "updated_at"),
        )
        view = await self.get(session, learner_id, now)
        assert view is not None
        return view

    async def turn_off(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> bool:
        """Stop reminding the learner; ``False`` if reminders were not on."""
        result = await session.execute(
            update(Reminder)
            .where(Reminder.learner_id == learner_id, Reminder.enabled.is_(True))
            .values(enabled=False, off_reason=OFF_BY_LEARNER, snoozed_until=None,
                    notice_pending=False, updated_at=now or utcnow())
        )
        return bool(getattr(result, "rowcount", 0))

    async def snooze(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> Snoozed:
        """Send today's reminder once more in an hour (once a day); a friendly error otherwise."""
        now = now or utcnow()
        row = await session.get(Reminder, learner_id, populate_existing=True)
        if row is None or not row.enabled:
            raise InvalidInputError(
                "Your reminders are off, so there is nothing to snooze. `/remind on` starts them."
            )
        today = now.astimezone(zone_of(await self._timezone(session, learner_id))).date()
        if row.resent_on is not None and row.resent_on >= today:
            raise InvalidInputError(
                "You snoozed today's reminder already: the next one comes tomorrow. "
                "`/review` works any time."
            )
        until = now + SNOOZE
        row.snoozed_until = until
        row.resent_on = today
        row.updated_at = now
        await session.flush()
        return Snoozed(until=until)

    async def due_count(
        self, session: AsyncSession, learner_id: int, now: datetime | None = None
    ) -> int:
        """Reviews due now for the learner (suspended and removed questions left out)."""
        return int(await session.scalar(
            select(func.count()).select_from(ReviewCard).where(
                ReviewCard.learner_id == learner_id,
                ReviewCard.suspended.is_(False),
                ReviewCard.due <= (now or utcnow()),
                ReviewCard.question_id.in_(list(self.course.questions)),
            )
        ) or 0)

    async def pending_notice(self, session: AsyncSession, learner_id: int) -> str | None:
        """What to tell the learner about their reminders, if anything (else ``None``).

        A primary-key read, run in every interaction's unit of work (:mod:`bot.runtime`); the
        adapter shows it after its reply and then calls :meth:`notice_shown`.
        """
        reason = await session.scalar(
            select(Reminder.off_reason).where(
                Reminder.learner_id == learner_id, Reminder.notice_pending.is_(True)
            )
        )
        if reason is None:
            return None
        return DM_CLOSED_NOTICE if reason == OFF_DM_CLOSED else None

    async def notice_shown(self, session: AsyncSession, learner_id: int) -> None:
        """The learner saw the notice: do not show it again."""
        await session.execute(
            update(Reminder).where(Reminder.learner_id == learner_id)
            .values(notice_pending=False)
        )

    # --- the sweep -------------------------------------------------------------------------

    async def to_send(
        self, session: AsyncSession, now: datetime | None = None
    ) -> list[ReminderToSend]:
        """Reminders due now and not yet claimed, with at least ``min_due`` reviews due.

        Due: the learner's local reminder time today (or yesterday, for a late time whose grace
        runs past midnight) has passed by less than the grace window (a bot down at that time
        catches up within it, never later), or their snooze is over.
        """
        now = now or utcnow()
        rows = (await session.execute(
            select(Reminder.learner_id, Reminder.local_time, Reminder.snoozed_until, Reminder.resent_on, Reminder.updated_at,
                   Learner.timezone)
            .join(Learner, Learner.id == Reminder.learner_id)
            .where(Reminder.enabled.is_(True))
        )).all()
        wanted: dict[str, tuple[int, date, bool]] = {}
        for row in rows:
            zone = zone_of(row.timezone)
            today = now.astimezone(zone).date()
            for day in (today - timedelta(days=1), today):
                moment = reminder_moment(day, row.local_time, zone)
                # Not a time that passed before the learner turned reminders on (or changed it).
                if row.updated_at <= moment <= now < moment + self.grace:
                    wanted[claim_key(row.learner_id, day)] = (row.learner_id, day, False)
            if row.snoozed_until is not None and row.resent_on is not None \
                    and row.snoozed_until <= now < row.snoozed_until + self.grace:
                wanted[claim_key(row.learner_id, row.resent_on, resend=True)] = (
                    row.learner_id, row.resent_on, True)
        if not wanted:
            return []
        claimed = set(await session.scalars(
            select(JobClaim.key).where(JobClaim.kind == CLAIM_KIND,
                                       JobClaim.key.in_(list(wanted)))
        ))
        open_keys = {key: item for key, item in wanted.items() if key not in claimed}
        if not open_keys:
            return []
        learners = sorted({item[0] for item in open_keys.values()})
        due = {learner_id: int(count) for learner_id, count in await session.execute(
            select(ReviewCard.learner_id, func.count())
            .where(ReviewCard.learner_id.in_(learners), ReviewCard.suspended.is_(False),
                   ReviewCard.due <= now,
                   # What /review serves: a question removed from the course is not due.
                   ReviewCard.question_id.in_(list(self.course.questions)))
            .group_by(ReviewCard.learner_id)
        )}
        found = []
        for key, (learner_id, day, resend) in sorted(open_keys.items()):
            count = int(due.get(learner_id, 0))
            # The operator's current setting (the row keeps the value it was turned on with).
            if count >= self.min_due:
                found.append(ReminderToSend(learner_id=learner_id, local_date=day, due=count,
                                            resend=resend, key=key, nonce=nonce_of(key)))
        return found

    async def claim(
        self, session: AsyncSession, item: ReminderToSend, now: datetime | None = None
    ) -> bool:
        """Claim one DM; ``True`` only for the one caller (of any process) that won it."""
        return await insert_ignore(session, JobClaim, kind=CLAIM_KIND, key=item.key,
                                   claimed_at=now or utcnow())

    async def mark_sent(
        self, session: AsyncSession, item: ReminderToSend, now: datetime | None = None
    ) -> None:
        """The DM went: the claim is done (a snoozed re-send also ends the snooze)."""
        now = now or utcnow()
        await session.execute(
            update(JobClaim).where(JobClaim.kind == CLAIM_KIND, JobClaim.key == item.key)
            .values(done_at=now)
        )
        if item.resend:
            await session.execute(
                update(Reminder).where(Reminder.learner_id == item.learner_id)
                .values(snoozed_until=None)
            )

    async def release(self, session: AsyncSession, item: ReminderToSend) -> None:
        """Give a claim back after a failure Discord asks us to retry (5xx, 429, other 403)."""
        await session.execute(
            delete(JobClaim).where(JobClaim.kind == CLAIM_KIND, JobClaim.key == item.key,
                                   JobClaim.done_at.is_(None))
        )

    async def dm_closed(
        self, session: AsyncSession, item: ReminderToSend, now: datetime | None = None
    ) -> None:
        """Discord will not deliver DMs to the learner: reminders off, tell them next time."""
        now = now or utcnow()
        await session.execute(
            update(Reminder).where(Reminder.learner_id == item.learner_id)
            .values(enabled=False, off_reason=OFF_DM_CLOSED, notice_pending=True,
                    snoozed_until=None, updated_at=now)
        )
        await session.execute(
            update(JobClaim).where(JobClaim.kind == CLAIM_KIND, JobClaim.key == item.key)
            .values(done_at=now)
        )


__all__ = [
    "CLAIM_KIND",
    "DEFAULT_TIME",
    "DM_CLOSED_NOTICE",
    "OFF_BY_LEARNER",
    "OFF_DM_CLOSED",
    "REVIEW_NOW",
    "SNOOZE",
    "ReminderService",
    "ReminderToSend",
    "ReminderView",
    "Snoozed",
    "claim_key",
    "nonce_of",
    "reminder_moment",
    "zone_of",
]
