"""/progress's reviews: due today in the learner's own day, per day ahead, predicted retention.

On SQLite and PostgreSQL. Retention is the ``fsrs`` package's own retrievability, averaged over
the learner's answered questions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fsrs import Card, Scheduler, State

from bot.app import AppContext
from bot.db.models import Learner, ReviewCard
from bot.services.progress import REVIEW_DAYS

ALICE = 101
BERLIN = ZoneInfo("Europe/Berlin")
#: 1 December 2026, 20:00 in Berlin.
NOW = datetime(2026, 12, 1, 20, 0, tzinfo=BERLIN).astimezone(UTC)


async def _cards(app: AppContext, *cards: tuple[str, datetime, float | None, bool]) -> None:
    async with app.db.sessions.begin() as session:
        session.add(Learner(id=ALICE, display_name="alice", timezone="Europe/Berlin"))
        await session.flush()
        for question_id, due, stability, suspended in cards:
            reviewed = None if stability is None else NOW - timedelta(days=4)
            session.add(ReviewCard(learner_id=ALICE, question_id=question_id, due=due,
                                   stability=stability, difficulty=5.0, state=2,
                                   last_review=reviewed, reps=1, lapses=0, suspended=suspended,
                                   created_at=NOW - timedelta(days=9)))


def _berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def test_due_today_follows_the_learners_day_and_overdue_counts_today(
    app: AppContext,
) -> None:
    await _cards(
        app,
        ("overdue", NOW - timedelta(days=3), 2.0, False),
        ("tonight", _berlin(1, 23, 30), 8.0, False),  # 22:30 UTC: still 1 December in Berlin
        ("after-midnight", _berlin(2, 0, 30), 8.0, False),  # 23:30 UTC the same UTC day
        ("in-a-week", _berlin(8, 9), 30.0, False),
        ("far", _berlin(1, 9) + timedelta(days=40), 60.0, False),
        ("suspended", NOW - timedelta(days=1), 1.0, True),
    )
    progress = app.services.progress
    async with app.db.sessions() as session:
        outlook = await progress.review_outlook(session, ALICE, "Europe/Berlin", NOW)
    assert outlook.cards == 5  # the suspended question is left out
    assert outlook.due_today == 2
    assert len(outlook.per_day) == REVIEW_DAYS
    by_day = {day.day: count for day, count in outlook.per_day}
    assert (by_day[1], by_day[2], by_day[8]) == (2, 1, 1)
    assert sum(by_day.values()) == 4  # the one 40 days away is beyond the chart
    scheduler = Scheduler()  # the package's own curve, default weights
    expected = [
        scheduler.get_card_retrievability(
            Card(card_id=n, state=State.Review, stability=s, difficulty=5.0, due=NOW,
                 last_review=NOW - timedelta(days=4)), NOW)
        for n, s in enumerate((2.0, 8.0, 8.0, 30.0, 60.0), start=1)
    ]
    assert outlook.retention is not None
    assert abs(outlook.retention - sum(expected) / 5) < 1e-9
    assert 0 < expected[0] < expected[1] < expected[3] < expected[4] < 1


async def test_summary_carries_the_outlook_and_nothing_without_cards(app: AppContext) -> None:
    async with app.db.sessions.begin() as session:
        session.add(Learner(id=ALICE, display_name="alice", timezone="UTC"))
    async with app.db.sessions() as session:
        summary = await app.services.progress.summary(session, ALICE, guild_id=None, now=NOW)
    assert summary.reviews.cards == 0 and summary.reviews.due_today == 0
    assert summary.reviews.retention is None
    assert all(count == 0 for _, count in summary.reviews.per_day)
