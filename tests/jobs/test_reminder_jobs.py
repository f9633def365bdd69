"""Review reminders on the runner: local time across DST, N due, snooze once, 50007, one a day.

Discord is the edge: :class:`RecordingSender` implements the ``ReminderSender`` port the way
Discord answers it (a closed DM is a 50007). The Discord adapter is tested through the fake
Discord in ``tests/exts/remind``. Every test runs on SQLite and PostgreSQL; the race between two
processes needs PostgreSQL's connections (two databases objects, two sweeps at once).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.engine import open_database
from bot.db.models import Learner, Reminder, ReviewCard
from bot.db.models.daily import JobClaim
from bot.errors import InvalidInputError
from bot.jobs.daily import RateLimiter
from bot.jobs.ports import DmClosedError, RetryableError
from bot.jobs.reminders import ReminderJobs
from bot.services.reminders import ReminderToSend

ALICE, BOB = 101, 102
BERLIN = "Europe/Berlin"


class RecordingSender:
    """The ReminderSender port as Discord answers it, recording every DM."""

    def __init__(self) -> None:
        self.ids = itertools.count(900_000)
        self.sent: list[ReminderToSend] = []
        self.failures: dict[int, list[Exception]] = {}  # per learner, the next answers
        self.delay = 0.0

    def fail(self, learner_id: int, failure: Exception) -> None:
        """Discord answers ``failure`` to the next DM to ``learner_id``."""
        self.failures.setdefault(learner_id, []).append(failure)

    async def open_dm(self, learner_id: int) -> int:
        if self.failures.get(learner_id):
            raise self.failures[learner_id].pop(0)
        return 50_000 + learner_id

    async def send_reminder(self, channel_id: int, reminder: ReminderToSend) -> int:
        await asyncio.sleep(self.delay)
        self.sent.append(reminder)
        return next(self.ids)


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


def jobs_for(app: AppContext, sender: RecordingSender) -> ReminderJobs:
    return ReminderJobs(app.db, lambda: app.services.reminders, sender,
                        limiter=RateLimiter(1000))


async def learner(app: AppContext, learner_id: int, zone: str = BERLIN, *, due: int = 5,
                  at: str = "18:30", on: datetime) -> None:
    """A learner in ``zone`` with ``due`` cards due (long before ``on``), reminders at ``at``."""
    async with app.db.sessions.begin() as session:
        session.add(Learner(id=learner_id, display_name=f"l{learner_id}", timezone=zone))
        await session.flush()
        for n in range(due):
            session.add(ReviewCard(learner_id=learner_id, question_id=question(app, n),
                                   due=on - timedelta(days=3), stability=2.0, difficulty=5.0,
                                   state=2, last_review=on - timedelta(days=5), reps=1,
                                   lapses=0, suspended=False, created_at=on - timedelta(days=5)))
        await app.services.reminders.turn_on(session, learner_id, at, now=on)


def question(app: AppContext, n: int) -> str:
    """The ``n``-th question of the course (a card of a removed question is never due)."""
    return sorted(app.course.questions)[n]


async def claims(app: AppContext) -> list[str]:
    async with app.db.sessions() as session:
        return sorted(await session.scalars(select(JobClaim.key)
                                            .where(JobClaim.kind == "reminder")))


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Berlin wall-clock time as UTC (no DST gap or overlap at the times used here)."""
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


async def test_a_reminder_goes_at_the_learners_local_time_across_dst(
    app: AppContext, sender: RecordingSender
) -> None:
    # Berlin leaves summer time on Sunday 25 October 2026: 18:30 local is 16:30 UTC before and
    # 17:30 UTC after.
    start = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    await learner(app, ALICE, on=start)
    jobs = jobs_for(app, sender)
    for day, utc_hour in ((24, 16), (25, 17), (26, 17)):
        assert await jobs.sweep(datetime(2026, 10, day, utc_hour, 29, tzinfo=UTC)) == []
        [sent] = await jobs.sweep(datetime(2026, 10, day, utc_hour, 30, tzinfo=UTC))
        assert sent.message_id is not None
        # Once a day: later sweeps the same local day send nothing.
        assert await jobs.sweep(datetime(2026, 10, day, utc_hour + 1, 0, tzinfo=UTC)) == []
    assert [r.local_date.day for r in sender.sent] == [24, 25, 26]
    assert [r.due for r in sender.sent] == [5, 5, 5]
    assert await claims(app) == [f"{ALICE}:2026-10-24", f"{ALICE}:2026-10-25",
                                 f"{ALICE}:2026-10-26"]


async def test_a_time_skipped_by_spring_forward_comes_after_the_gap(
    app: AppContext, sender: RecordingSender
) -> None:
    # Berlin skips 02:00-03:00 on Sunday 29 March 2026: a 02:30 reminder comes at 03:30 local
    # (01:30 UTC), as a daily quiz at 02:30 would; the day before it is 02:30 local (01:30 UTC).
    await learner(app, ALICE, at="02:30", on=datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
    jobs = jobs_for(app, sender)
    assert len(await jobs.sweep(datetime(2026, 3, 28, 1, 30, tzinfo=UTC))) == 1
    assert await jobs.sweep(datetime(2026, 3, 29, 1, 29, tzinfo=UTC)) == []
    [outcome] = await jobs.sweep(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert outcome.key == f"{ALICE}:2026-03-29"
    assert len(await jobs.sweep(datetime(2026, 3, 30, 0, 30, tzinfo=UTC))) == 1  # summer time


async def test_none_when_fewer_than_n_are_due_and_none_after_the_grace_window(
    app: AppContext, sender: RecordingSender
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await learner(app, ALICE, due=4, on=start)  # the default remind_min_due is 5
    await learner(app, BOB, due=5, on=start)
    jobs = jobs_for(app, sender)
    await jobs.sweep(berlin(2026, 12, 1, 18, 31))
    assert [r.learner_id for r in sender.sent] == [BOB]
    # A fifth card of Alice's falls due at 19:00: within the grace window, the reminder goes.
    async with app.db.sessions.begin() as session:
        session.add(ReviewCard(learner_id=ALICE, question_id=question(app, 5),
                               due=berlin(2026, 12, 1, 19, 0), state=1, reps=0, lapses=0,
                               suspended=False))
    await jobs.sweep(berlin(2026, 12, 1, 19, 1))
    assert [r.learner_id for r in sender.sent] == [BOB, ALICE]
    # A bot down at the reminder time catches up within the grace window (2 h), never later.
    await jobs.sweep(berlin(2026, 12, 2, 20, 31))
    assert [r.learner_id for r in sender.sent] == [BOB, ALICE]


async def test_suspended_cards_and_removed_questions_do_not_count(
    app: AppContext, sender: RecordingSender
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await learner(app, ALICE, due=5, on=start)
    async with app.db.sessions.begin() as session:
        card = await session.get(ReviewCard, (ALICE, question(app, 0)))
        assert card is not None
        card.suspended = True
        # A question no longer in the course: /review would not serve it.
        session.add(ReviewCard(learner_id=ALICE, question_id="gone.q1", due=start, state=2,
                               reps=1, lapses=0, suspended=False))
    assert await jobs_for(app, sender).sweep(berlin(2026, 12, 1, 18, 31)) == []


async def test_a_time_passed_before_turning_on_waits_for_the_next_day(
    app: AppContext, sender: RecordingSender
) -> None:
    await learner(app, ALICE, on=berlin(2026, 12, 1, 19, 0))  # 18:30 has passed today
    jobs = jobs_for(app, sender)
    assert await jobs.sweep(berlin(2026, 12, 1, 19, 1)) == []
    assert len(await jobs.sweep(berlin(2026, 12, 2, 18, 30))) == 1


async def test_snooze_resends_once_that_day(app: AppContext, sender: RecordingSender) -> None:
    await learner(app, ALICE, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    jobs = jobs_for(app, sender)
    reminders = app.services.reminders
    await jobs.sweep(berlin(2026, 12, 1, 18, 30))
    async with app.db.sessions.begin() as session:
        snoozed = await reminders.snooze(session, ALICE, now=berlin(2026, 12, 1, 18, 35))
    assert snoozed.until == berlin(2026, 12, 1, 19, 35)
    assert await jobs.sweep(berlin(2026, 12, 1, 19, 34)) == []
    [again] = await jobs.sweep(berlin(2026, 12, 1, 19, 35))
    assert again.key == f"{ALICE}:2026-12-01:snooze"
    assert [r.resend for r in sender.sent] == [False, True]
    assert await jobs.sweep(berlin(2026, 12, 1, 20, 0)) == []
    with pytest.raises(InvalidInputError, match="already"):
        async with app.db.sessions.begin() as session:
            await reminders.snooze(session, ALICE, now=berlin(2026, 12, 1, 19, 40))
    # The next day is a new day: its reminder goes, and it may be snoozed again.
    await jobs.sweep(berlin(2026, 12, 2, 18, 30))
    async with app.db.sessions.begin() as session:
        await reminders.snooze(session, ALICE, now=berlin(2026, 12, 2, 18, 31))
    assert len(sender.sent) == 3


async def test_turned_off_means_no_dm(app: AppContext, sender: RecordingSender) -> None:
    await learner(app, ALICE, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    async with app.db.sessions.begin() as session:
        assert await app.services.reminders.turn_off(session, ALICE)
        assert not await app.services.reminders.turn_off(session, ALICE)
    assert await jobs_for(app, sender).sweep(berlin(2026, 12, 1, 18, 31)) == []


async def test_dms_closed_switch_reminders_off_and_the_learner_is_told_once(
    app: AppContext, sender: RecordingSender
) -> None:
    await learner(app, ALICE, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    sender.fail(ALICE, DmClosedError("50007", status=403))
    [outcome] = await jobs_for(app, sender).sweep(berlin(2026, 12, 1, 18, 31))
    assert outcome.switched_off
    reminders = app.services.reminders
    async with app.db.sessions() as session:
        row = await session.get(Reminder, ALICE)
        assert row is not None and not row.enabled and row.off_reason == "dm_closed"
        assert row.notice_pending
        notice = await reminders.pending_notice(session, ALICE)
    assert notice is not None and "/remind on" in notice
    async with app.db.sessions.begin() as session:
        await reminders.notice_shown(session, ALICE)
        assert await reminders.pending_notice(session, ALICE) is None
    assert await jobs_for(app, sender).sweep(berlin(2026, 12, 2, 18, 31)) == []


@pytest.mark.parametrize("failure", [
    RetryableError("Discord answered 503", status=503),
    RetryableError("Discord answered 403 50001", status=403),  # another 403: not "DMs closed"
    RetryableError("Discord answered 429", status=429, retry_after=90),
])
async def test_other_failures_are_retried_later_without_looping(
    app: AppContext, sender: RecordingSender, failure: RetryableError,
) -> None:
    await learner(app, ALICE, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await learner(app, BOB, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    jobs = jobs_for(app, sender)
    sender.fail(ALICE, failure)
    first = await jobs.sweep(berlin(2026, 12, 1, 18, 31))
    assert sorted((o.learner_id, o.error is None) for o in first) == [(ALICE, False), (BOB, True)]
    assert await claims(app) == [f"{BOB}:2026-12-01"]  # Alice's claim was given back
    # Backed off: the next minute's sweep leaves Alice alone; a few minutes on, she gets it.
    assert await jobs.sweep(berlin(2026, 12, 1, 18, 32)) == []
    [later] = await jobs.sweep(berlin(2026, 12, 1, 18, 35))
    assert later.learner_id == ALICE and later.message_id is not None
    async with app.db.sessions() as session:
        row = await session.get(Reminder, ALICE)
        assert row is not None and row.enabled


async def test_an_unexpected_error_is_logged_and_retried(
    app: AppContext, sender: RecordingSender,
) -> None:
    await learner(app, ALICE, on=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    jobs = jobs_for(app, sender)
    sender.fail(ALICE, ValueError("a bug"))
    [outcome] = await jobs.sweep(berlin(2026, 12, 1, 18, 31))
    assert outcome.error == "a bug"
    assert len(await jobs.sweep(berlin(2026, 12, 1, 18, 40))) == 1


async def test_two_processes_sweeping_at_once_send_one_dm_a_day(
    app: AppContext, database_url: str, sender: RecordingSender
) -> None:
    """Two runners' sweeps (a leader being replaced) race on the claims: one DM each."""
    on = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for learner_id in range(200, 230):
        await learner(app, learner_id, on=on)
    other_db = await open_database(database_url)
    try:
        other_sender = RecordingSender()
        sender.delay = other_sender.delay = 0.001
        first = jobs_for(app, sender)
        second = ReminderJobs(other_db, lambda: app.services.reminders, other_sender,
                              limiter=RateLimiter(1000))
        moment = berlin(2026, 12, 1, 18, 31)
        await asyncio.gather(first.sweep(moment), second.sweep(moment),
                             first.sweep(moment), second.sweep(moment))
    finally:
        await other_db.dispose()
    sent = [r.learner_id for r in sender.sent + other_sender.sent]
    assert sorted(sent) == list(range(200, 230))
    async with app.db.sessions() as session:
        done = await session.scalar(select(func.count()).select_from(JobClaim).where(
            JobClaim.kind == "reminder", JobClaim.done_at.is_not(None)))
    assert done == 30


async def test_reminder_dms_and_daily_posts_share_one_pacer(
    app: AppContext, sender: RecordingSender
) -> None:
    """One budget under Discord's global limit: the runner gives both features one limiter."""
    from bot.jobs import build_job_runner
    from bot.jobs.daily import DailyQuizJobs
    from tests.jobs.test_daily_jobs import RecordingPublisher

    runner = build_job_runner(app, RecordingPublisher(), reminder_sender=sender)
    daily = next(f for f in runner.features if isinstance(f, DailyQuizJobs))
    reminders = next(f for f in runner.features if isinstance(f, ReminderJobs))
    assert daily.limiter is reminders.limiter
    assert daily.limiter.interval == 1 / app.settings.jobs.send_per_second
