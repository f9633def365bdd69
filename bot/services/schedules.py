"""Daily-quiz schedules: validation written for moderators, CRUD, and the next post time.

A schedule says "post a question in this channel at this local time on these weekdays". Times
are local to the schedule's own zone and computed with APScheduler's :class:`CronTrigger` over
:mod:`zoneinfo`, exactly as the job runner fires them: a 09:00 Europe/Berlin schedule stays
09:00 local across DST; a time that does not exist on a spring-forward day (02:30) fires at the
first valid local time after it (03:30); a time that happens twice on a fall-back day fires
twice, and the claim on ``(schedule, local date)`` in :mod:`bot.services.daily` absorbs the
second.

Every method takes the guild id and checks the schedule belongs to it: an id from a command
option says what the moderator meant, never what they may touch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, Question, QuestionKind
from bot.db.base import utcnow
from bot.db.models import Guild
from bot.db.models.daily import (
    ALL_DAYS,
    DEFAULT_CLOSE_AFTER_MIN,
    MAX_CLOSE_AFTER_MIN,
    Schedule,
)
from bot.db.upsert import insert_ignore
from bot.errors import InvalidInputError, NotFoundError
from bot.services.learners import parse_timezone

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS: Final = {
    "": ALL_DAYS, "daily": ALL_DAYS, "every day": ALL_DAYS, "everyday": ALL_DAYS, "all": ALL_DAYS,
    "weekdays": 0b0011111, "workdays": 0b0011111, "weekends": 0b1100000, "weekend": 0b1100000,
}
#: ``random``: the whole course; ``lesson``: one lesson; ``review``: what this server finds
#: hardest (:meth:`bot.services.daily.DailyService.review_candidates`).
SOURCES: Final = ("random", "lesson", "review")
REVEALS: Final = ("instant", "at_close")
DEFAULT_MAX_PER_GUILD: Final = 25

_TIME_RE = re.compile(
    r"^(?P<h>\d{1,2})(?:\s*[:.h]\s*(?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?\s*m\.?)?$", re.IGNORECASE
)
_DURATION_RE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>d|h|m|min|mins|hours?|days?|minutes?)?")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Leave this as it is" for :meth:`ScheduleService.edit` (``None`` means "clear it").
UNSET: Final = _Unset()


def parse_local_time(text: str | time) -> time:
    """A time of day from what a moderator typed: ``9``, ``09:00``, ``18:30``, ``9am``, ``9:30 pm``."""
    if isinstance(text, time):
        return text.replace(second=0, microsecond=0, tzinfo=None)
    cleaned = text.strip()
    match = _TIME_RE.match(cleaned)
    problem = (
        f"“{cleaned[:20]}” is not a time of day. Write it as HH:MM on a 24-hour clock, "
        "e.g. `09:00` or `18:30` (or `9am`, `6:30pm`)."
    )
    if not match:
        raise InvalidInputError(problem)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise InvalidInputError(problem)
        hour = hour % 12 + (12 if match["ampm"].lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        raise InvalidInputError(problem)
    return time(hour, minute)


def parse_zone(text: str) -> str:
    """The canonical IANA zone name (``Etc/UTC``, ``Europe/Berlin``), or a friendly error."""
    return parse_timezone(text)


def parse_days(text: str | int | None) -> int:
    """Weekdays as a bit mask (Monday = bit 0): ``daily``, ``weekdays``, ``mon,wed,fri``, ``mon-fri``."""
    if text is None:
        return ALL_DAYS
    if isinstance(text, int):
        if not 1 <= text <= ALL_DAYS:
            raise InvalidInputError("Pick at least one day of the week.")
        return text
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _DAY_WORDS:
        return _DAY_WORDS[cleaned]
    mask = 0
    for part in re.split(r"[,\s]+", cleaned):
        if not part:
            continue
        ends = part.split("-")
        if len(ends) > 2 or not all(_day_index(end) is not None for end in ends):
            raise InvalidInputError(
                f"“{part[:20]}” is not a day. Use `daily`, `weekdays`, `weekends`, or days such "
                "as `mon,wed,fri` or `mon-fri`."
            )
        first, last = (_day_index(ends[0]), _day_index(ends[-1]))
        assert first is not None and last is not None
        index = first
        while True:
            mask |= 1 << index
            if index == last:
                break
            index = (index + 1) % 7
    if not mask:
        raise InvalidInputError("Pick at least one day of the week.")
    return mask


def _day_index(word: str) -> int | None:
    word = word.strip(".")
    if len(word) < 2:
        return None
    for index, name in enumerate(DAY_NAMES):
        full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[index]
        if full.startswith(word) and (len(word) >= 3 or word[:2] == name[:2]):
            return index
    return None


def days_text(mask: int) -> str:
    """The weekdays of a mask, for people: ``every day``, ``weekdays``, ``Mon, Wed, Fri``."""
    for word in ("every day", "weekdays", "weekends"):
        if _DAY_WORDS[word] == mask:
            return word
    return ", ".join(name.title() for i, name in enumerate(DAY_NAMES) if mask & (1 << i))


def parse_close_after(text: str | int | None) -> int:
    """Minutes a post stays open: ``23h``, ``90m``, ``1d``, ``2h30m``; a bare number is hours."""
    if text is None:
        return DEFAULT_CLOSE_AFTER_MIN
    if isinstance(text, int):
        minutes = text
    else:
        cleaned = text.strip().lower().replace(" ", "")
        total = 0.0
        position = 0
        for match in _DURATION_RE.finditer(cleaned):
            if match.start() != position or not match.group(0):
                break
            unit = (match["unit"] or "h")[0]
            total += float(match["n"]) * {"d": 1440, "h": 60, "m": 1}[unit]
            position = match.end()
        if not cleaned or position != len(cleaned):
            raise InvalidInputError(
                f"“{text.strip()[:20]}” is not a duration. Write e.g. `23h`, `90m`, `1d` or `2h30m`."
            )
        minutes = round(total)
    if not 1 <= minutes <= MAX_CLOSE_AFTER_MIN:
        raise InvalidInputError("A daily quiz stays open between 1 minute and 7 days.")
    return minutes


def trigger_for(local_time: time, timezone: str, days: int) -> CronTrigger:
    """The cron trigger of a schedule, in the schedule's own zone (how the runner fires it)."""
    weekdays = ",".join(name for i, name in enumerate(DAY_NAMES) if days & (1 << i))
    return CronTrigger(
        day_of_week=weekdays, hour=local_time.hour, minute=local_time.minute, second=0,
        timezone=ZoneInfo(timezone),
    )


def fire_times(
    local_time: time, timezone: str, days: int, start: datetime, end: datetime
) -> list[datetime]:
    """Every fire time in ``[start, end)``, as the runner would see them (aware datetimes)."""
    trigger = trigger_for(local_time, timezone, days)
    times: list[datetime] = []
    previous: datetime | None = None
    cursor = start
    while True:
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None or fire >= end:
            return times
        times.append(fire)
        previous = fire
        # In UTC: wall-clock arithmetic in the zone would stay inside a fall-back's repeated hour.
        cursor = fire.astimezone(UTC) + timedelta(microseconds=1)


def choice_pool(course: Course, lesson_id: str | None) -> list[Question]:
    """Questions a public post can ask: choice questions only (answered with buttons)."""
    if lesson_id is not None:
        lesson = course.lesson(lesson_id)
        questions = list(lesson.questions) if lesson else []
    else:
        questions = list(course.questions.values())
    return [q for q in questions if q.kind is not QuestionKind.NUMERIC and q.choices]


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as moderators see it, with its next post time (``None``: paused)."""

    id: int
    guild_id: int
    channel_id: int
    created_by: int
    local_time: time
    timezone: str
    days: int
    source: str
    lesson_id: str | None
    close_after: int  # minutes
    reveal: str
    ping_role_id: int | None
    use_thread: bool
    paused_at: datetime | None
    pause_reason: str | None
    skip_date: date | None
    next_post_at: datetime | None  # UTC; show as <t:…:F>
    updated_at: datetime

    @property
    def paused(self) -> bool:
        """True while the schedule does not post."""
        return self.paused_at is not None

    @property
    def next_post_local(self) -> datetime | None:
        """The next post in the schedule's own zone."""
        if self.next_post_at is None:
            return None
        return self.next_post_at.astimezone(ZoneInfo(self.timezone))

    @property
    def days_text(self) -> str:
        """The weekdays for people."""
        return days_text(self.days)


def next_post_at(row: Any, after: datetime) -> datetime | None:
    """When a schedule row posts next after ``after`` (skipping its skipped date), or ``None``."""
    if row.paused_at is not None:
        return None
    trigger = trigger_for(row.local_time, row.timezone, row.days)
    zone = ZoneInfo(row.timezone)
    previous: datetime | None = None
    cursor = after
    for _ in range(16):
        fire = trigger.get_next_fire_time(previous, cursor)
        if fire is None:
            return None
        if row.skip_date is None or fire.astimezone(zone).date() != row.skip_date:
            return fire.astimezone(UTC)
        previous, cursor = fire, fire.astimezone(UTC) + timedelta(microseconds=1)
    return None


def view_of(row: Schedule, now: datetime | None = None) -> ScheduleView:
    """The view of a schedule row at ``now``."""
    return ScheduleView(
        id=row.id, guild_id=row.guild_id, channel_id=row.channel_id, created_by=row.created_by,
        local_time=row.local_time, timezone=row.timezone, days=row.days, source=row.source,
        lesson_id=row.lesson_id, close_after=row.close_after, reveal=row.reveal,
        ping_role_id=row.ping_role_id, use_thread=row.use_thread, paused_at=row.paused_at,
        pause_reason=row.pause_reason, skip_date=row.skip_date,
        next_post_at=next_post_at(row, now or utcnow()), updated_at=row.updated_at,
    )


class ScheduleService:
    """Adds, lists, edits, pauses, resumes, skips and removes a guild's daily quizzes."""

    def __init__(self, course: Course, *, max_per_guild: int = DEFAULT_MAX_PER_GUILD) -> None:
        self.course = course
        self.max_per_guild = max_per_guild

    def _lesson_id(self, source: str, lesson: str | None) -> str | None:
        if source not in SOURCES:
            raise InvalidInputError(
                "The source is `random` (the whole course), `lesson` (one lesson) or `review` "
                "(the questions this server gets wrong most)."
            )
        if source in ("random", "review"):
            # A lesson narrows the pool of either; one without choice questions is ignored.
            if lesson:
                found = self.course.find_lesson(lesson)
                if found is None:
                    raise NotFoundError(f"There is no lesson “{lesson[:40]}”. See /course.")
                return None if not choice_pool(self.course, found.id) else found.id
            return None
        if not lesson:
            raise InvalidInputError("With source `lesson`, name the lesson too.")
        found = self.course.find_lesson(lesson)
        if found is None:
            raise NotFoundError(f"There is no lesson “{lesson[:40]}”. See /course.")
        if not choice_pool(self.course, found.id):
            raise InvalidInputError(
                f"Lesson {found.number} has no multiple-choice questions to post. Pick another."
            )
        return found.id

    async def add(
        self,
        session: AsyncSession,
        *,
        guild_id: int,
        channel_id: int,
        created_by: int,
        local_time: str | time,
        timezone: str,
        days: str | int | None = None,
        source: str = "random",
        lesson: str | None = None,
        close_after: str | int | None = None,
        reveal: str = "at_close",
        ping_role_id: int | None = None,
        use_thread: bool = False,
        now: datetime | None = None,
    ) -> ScheduleView:
        """Create a schedule after checking every value; errors say what to change."""
        parsed_time = parse_local_time(local_time)
        zone = parse_zone(timezone)
        mask = parse_days(days)
        lesson_id = self._lesson_id(source, lesson)
        minutes = parse_close_after(close_after)
        if reveal not in REVEALS:
            raise InvalidInputError("Reveal is `instant` or `at_close`.")
        if source != "lesson" and not choice_pool(self.course, lesson_id):
            raise InvalidInputError("The course has no multiple-choice questions to post.")
        count = await session.scalar(
            select(func.count()).select_from(Schedule).where(Schedule.guild_id == guild_id)
        )
        if (count or 0) >= self.max_per_guild:
            raise InvalidInputError(
                f"This server already has {count} daily quizzes, the most allowed "
                f"({self.max_per_guild}). Remove one with `/schedule remove` first."
            )
        now = now or utcnow()
        await insert_ignore(session, Guild, id=guild_id, name="", created_at=now)
        row = Schedule(
            guild_id=guild_id, channel_id=channel_id, created_by=created_by,
            local_time=parsed_time, timezone=zone, days=mask,
            source=source,
            lesson_id=lesson_id, close_after=minutes, reveal=reveal,
            ping_role_id=ping_role_id, use_thread=use_thread, created_at=now, updated_at=now,
        )
        session.add(row)
        await session.flush()
        return view_of(row, now)

    async def _row(self, session: AsyncSession, guild_id: int, schedule_id: int) -> Schedule:
        row = await session.get(Schedule, schedule_id, populate_existing=True)
        if row is None or row.guild_id != guild_id:
            raise NotFoundError(
                f"There is no daily quiz #{schedule_id} in this server. See `/schedule list`."
            )
        return row

    async def get(
        self, session: AsyncSession, guild_id: int, schedule_id: int, now: datetime | None = None
    ) -> ScheduleView:
        """One schedule of the guild."""
        return view_of(await self._row(session, guild_id, schedule_id), now)

    async def list(
        self, session: AsyncSession, guild_id: int, now: datetime | None = None
    ) -> list[ScheduleView]:
        """The guild's schedules, oldest first."""
        rows = await session.scalars(
            select(Schedule).where(Schedule.guild_id == guild_id).order_by(Schedule.id)
        )
        return [view_of(row, now) for row in rows]

    async def edit(
        self,
        session: AsyncSession,
        guild_id: int,
        schedule_id: int,
        *,
        channel_id: int | _Unset = UNSET,
        local_time: str | time | _Unset = UNSET,
        timezone: str | _Unset = UNSET,
        days: str | int | _Unset = UNSET,
        source: str | _Unset = UNSET,
        lesson: str | _Unset | None = UNSET,
        close_after: str | int | _Unset = UNSET,
        reveal: str | _Unset = UNSET,
        ping_role_id: int | _Unset | None = UNSET,
        use_thread: bool | _Unset = UNSET,
        now: datetime | None = None,
    ) -> ScheduleView:
        """Change some settings. A post already made today is never made again (the claim)."""
        row = await self._row(session, guild_id, schedule_id)
        if not isinstance(channel_id, _Unset):
            row.channel_id = channel_id
        if not isinstance(local_time, _Unset):
            row.local_time = parse_local_time(local_time)
        if not isinstance(timezone, _Unset):
            row.timezone = parse_zone(timezone)
        if not isinstance(days, _Unset):
            row.days = parse_days(days)
        if not isinstance(source, _Unset) or not isinstance(lesson, _Unset):
            new_source = row.source if isinstance(source, _Unset) else source
            lesson_name = row.lesson_id if isinstance(lesson, _Unset) else lesson
            row.lesson_id = self._lesson_id(new_source, lesson_name)
            row.source = new_source
        if not isinstance(close_after, _Unset):
            row.close_after = parse_close_after(close_after)
        if not isinstance(reveal, _Unset):
            if reveal not in REVEALS:
                raise InvalidInputError("Reveal is `instant` or `at_close`.")
            row.reveal = reveal
        if not isinstance(ping_role_id, _Unset):
            row.ping_role_id = ping_role_id
        if not isinstance(use_thread, _Unset):
            row.use_thread = use_thread
        now = now or utcnow()
        row.updated_at = now
        await session.flush()
        return view_of(row, now)

    async def pause(
        self,
        session: AsyncSession,
        guild_id: int,
        schedule_id: int,
        reason: str = "paused by a moderator",
        now: datetime | None = None,
    ) -> ScheduleView:
        """Stop posting until resumed."""
        row = await self._row(session, guild_id, schedule_id)
        now = now or utcnow()
        if row.paused_at is None:
            row.paused_at = now
        row.pause_reason = reason[:300]
        row.updated_at = now
        await session.flush()
        return view_of(row, now)

    async def resume(
        self, session: AsyncSession, guild_id: int, schedule_id: int, now: datetime | None = None
    ) -> ScheduleView:
        """Post again from the next due time (a post missed while paused is not made)."""
        row = await self._row(session, guild_id, schedule_id)
        now = now or utcnow()
        row.paused_at = None
        row.pause_reason = None
        row.updated_at = now
        await session.flush()
        return view_of(row, now)

    async def skip_next(
        self, session: AsyncSession, guild_id: int, schedule_id: int, now: datetime | None = None
    ) -> ScheduleView:
        """Skip the next post only (its local date); later posts go on as usual."""
        row = await self._row(session, guild_id, schedule_id)
        now = now or utcnow()
        if row.paused_at is not None:
            raise InvalidInputError("This daily quiz is paused: there is no next post to skip.")
        upcoming = next_post_at(row, now)
        if upcoming is None:
            raise InvalidInputError("This daily quiz has no next post to skip.")
        row.skip_date = upcoming.astimezone(ZoneInfo(row.timezone)).date()
        row.updated_at = now
        await session.flush()
        return view_of(row, now)

    async def remove(self, session: AsyncSession, guild_id: int, schedule_id: int) -> None:
        """Delete a schedule. Its open post still closes and its answers still count."""
        row = await self._row(session, guild_id, schedule_id)
        await session.delete(row)
        await session.flush()

    async def pause_guild(
        self, session: AsyncSession, guild_id: int, reason: str, now: datetime | None = None
    ) -> int:
        """Pause every running schedule of a guild (the bot left it); how many were paused."""
        now = now or utcnow()
        result = await session.execute(
            update(Schedule)
            .where(Schedule.guild_id == guild_id, Schedule.paused_at.is_(None))
            .values(paused_at=now, pause_reason=reason[:300], updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def pause_for_failure(
        self, session: AsyncSession, schedule_id: int, reason: str, now: datetime | None = None
    ) -> ScheduleView | None:
        """Pause a schedule Discord refused (404/403), keeping why; ``None`` if it is gone."""
        row = await session.get(Schedule, schedule_id, populate_existing=True)
        if row is None:
            return None
        return await self.pause(session, row.guild_id, schedule_id, reason, now)


__all__ = [
    "DAY_NAMES",
    "REVEALS",
    "SOURCES",
    "UNSET",
    "ScheduleService",
    "ScheduleView",
    "choice_pool",
    "days_text",
    "fire_times",
    "next_post_at",
    "parse_close_after",
    "parse_days",
    "parse_local_time",
    "parse_zone",
    "trigger_for",
    "view_of",
]
