"""Simulation: one learner's spaced-repetition month, through the real services (issue 11).

One learner (in Europe/Berlin) studies for a month on a temporary SQLite database. Each
morning they run /review and answer every due question (``ReviewService.start`` and
``QuizService.record_answer``, the services the bot and the console call, with a simulated
clock); on the first days they also take a quiz of new questions. Whether they recall a
question is drawn with the probability FSRS itself predicts for that card (its
retrievability), new questions with ``--new-right``; the draws are seeded, so a run is
reproducible. Due times are unfuzzed unless ``--fuzz``.

Printed: per day, the answers (new and reviews, right/wrong), how many questions are due in the
coming days, the next due date, and the predicted retention (mean retrievability over every
answered question at the end of the day); then each of a few questions' schedule (answer by
answer: right or wrong, the interval, the next due date).

    .venv/bin/python bench/review_month.py                 # 30 days, the course in lessons/
    .venv/bin/python bench/review_month.py --days 60 --fuzz
    .venv/bin/python bench/review_month.py --quick         # a smoke run (seconds)

No targets: the figures describe the schedule, they are not a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.content.loader import load_course  # noqa: E402
from bot.content.model import Question, QuestionKind  # noqa: E402
from bot.db.engine import open_database  # noqa: E402
from bot.db.models import ReviewCard, ReviewLog  # noqa: E402
from bot.services.learners import LearnerService  # noqa: E402
from bot.services.memory import MemoryModel  # noqa: E402
from bot.services.quiz import QuestionView, QuizService  # noqa: E402
from bot.services.review import ReviewService  # noqa: E402

LEARNER = 1
ZONE = ZoneInfo("Europe/Berlin")
START = date(2026, 3, 2)  # a Monday; the month crosses the end of daylight saving's winter


@dataclass
class Day:
    """One simulated day."""

    day: int
    on: date
    new_right: int = 0
    new_wrong: int = 0
    review_right: int = 0
    review_wrong: int = 0
    due_soon: list[int] = field(default_factory=list)  # due in 1, 2, 3..7, 8..30 days
    next_due: datetime | None = None
    retention: float = 0.0
    cards: int = 0


class Clock:
    """The simulated time the services read."""

    def __init__(self) -> None:
        self.now = datetime.combine(START, datetime.min.time(), ZONE).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, on: date, hour: int, minute: int = 0) -> None:
        self.now = datetime(on.year, on.month, on.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _answer(question: Question, right: bool) -> dict[str, object]:
    """The keyword arguments of record_answer for a right or a wrong answer."""
    if question.kind is QuestionKind.NUMERIC:
        assert question.answer_number is not None
        return {"value": question.answer_number + (0 if right else 1000)}
    key = question.answer_choice
    if right:
        return {"choice_id": key}
    return {"choice_id": next(c.id for c in question.choices if c.id != key)}


async def simulate(days: int, new_per_day: int, new_days: int, new_right: float, fuzz: bool,
                   lessons: Path, seed: int) -> tuple[list[Day], dict[str, list[str]]]:
    """Run the month; the per-day figures and a few questions' schedules."""
    course = load_course(lessons)
    clock = Clock()
    memory = MemoryModel(fuzz=fuzz)
    quiz = QuizService(course, memory, clock=clock)
    review = ReviewService(course, quiz, clock=clock)
    rng = random.Random(seed)
    out: list[Day] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = await open_database(f"sqlite+aiosqlite:///{tmp}/month.sqlite3")

        async def recalled(view: QuestionView) -> bool:
            """A review: recalled with the probability FSRS predicts for the card now."""
            async with db.sessions() as session:
                card = await session.get(ReviewCard, (LEARNER, view.question.id))
            assert card is not None
            return rng.random() < memory.retrievability(card.stability, card.last_review,
                                                         clock())

        async def first_time(view: QuestionView) -> bool:
            """A new question: right with the fixed share ``new_right``."""
            return rng.random() < new_right

        async def answer_all(
            view: QuestionView | None, decide: Callable[[QuestionView], Awaitable[bool]]
        ) -> tuple[int, int]:
            """Answer every question of the attempt from ``view`` on: (right, wrong)."""
            right = wrong = 0
            while view is not None:
                ok = await decide(view)
                async with db.sessions.begin() as session:
                    result = await quiz.record_answer(
                        session, view.attempt_id, LEARNER, view.question.id,
                        **_answer(view.question, ok),  # type: ignore[arg-type]
                    )
                right, wrong = right + ok, wrong + (not ok)
                view = result.next_question
            return right, wrong

        try:
            async with db.sessions.begin() as session:
                await LearnerService().ensure(session, LEARNER, "Ada")
                await LearnerService().set_timezone(session, LEARNER, "Europe/Berlin")
            for number in range(days):
                on = START + timedelta(days=number)
                today = Day(number + 1, on)
                clock.at(on, 8, 0)
                # Morning: every due question, most overdue first.
                while True:
                    async with db.sessions.begin() as session:
                        start = await review.start(session, LEARNER, guild_id=None, count=20,
                                                   rng=rng)
                    if start.question is None:
                        break
                    right, wrong = await answer_all(start.question, recalled)
                    today.review_right += right
                    today.review_wrong += wrong
                # Evening: new questions, on the first days.
                if number < new_days:
                    clock.at(on, 20, 30)
                    async with db.sessions.begin() as session:
                        view = await review.start_new(session, LEARNER, guild_id=None,
                                                      count=new_per_day, rng=rng)
                    today.new_right, today.new_wrong = await answer_all(view, first_time)
                clock.at(on, 23, 59)
                async with db.sessions() as session:
                    cards = list(await session.scalars(
                        select(ReviewCard).where(ReviewCard.learner_id == LEARNER)))
                    today.next_due = await review.next_due(session, LEARNER)
                local_today = clock().astimezone(ZONE).date()
                buckets = Counter()
                for card in cards:
                    wait = (card.due.astimezone(ZONE).date() - local_today).days
                    buckets[1 if wait <= 1 else 2 if wait == 2 else 7 if wait <= 7 else 30] += 1
                today.due_soon = [buckets[1], buckets[2], buckets[7], buckets[30]]
                today.cards = len(cards)
                if cards:
                    today.retention = sum(
                        memory.retrievability(c.stability, c.last_review, clock())
                        for c in cards
                    ) / len(cards)
                out.append(today)
            async with db.sessions() as session:
                logs = list(await session.scalars(
                    select(ReviewLog).where(ReviewLog.learner_id == LEARNER)
                    .order_by(ReviewLog.question_id, ReviewLog.reviewed_at)))
        finally:
            await db.dispose()
    schedules: dict[str, list[str]] = {}
    for log in logs:
        if log.question_id not in schedules and len(schedules) >= 3:
            continue
        interval = (log.due_after - log.reviewed_at).days
        schedules.setdefault(log.question_id, []).append(
            f"{log.local_date:%d %b} {'right' if log.rating == 3 else 'wrong'} "
            f"({log.source}) -> +{interval}d, due {log.due_after.astimezone(ZONE):%d %b}"
        )
    return out, schedules


def report(days: list[Day], schedules: dict[str, list[str]], fuzz: bool) -> None:
    print(f"One learner (Europe/Berlin), {len(days)} days from {START:%d %b %Y}; "
          f"FSRS-6 defaults, desired retention 0.9, no learning steps, fuzz {'on' if fuzz else 'off'}.")
    print()
    print("| day | date | new right/wrong | reviews right/wrong | cards | due <=1d / 2d / 3-7d / "
          "8-30d | next due | predicted retention |")
    print("|---:|---|---:|---:|---:|---|---|---:|")
    for d in days:
        nxt = d.next_due.astimezone(ZONE).strftime("%d %b %H:%M") if d.next_due else "-"
        print(f"| {d.day} | {d.on:%a %d %b} | {d.new_right}/{d.new_wrong} | "
              f"{d.review_right}/{d.review_wrong} | {d.cards} | "
              f"{' / '.join(str(n) for n in d.due_soon)} | {nxt} | {d.retention:.1%} |")
    answers = sum(d.new_right + d.new_wrong + d.review_right + d.review_wrong for d in days)
    reviews = sum(d.review_right + d.review_wrong for d in days)
    right = sum(d.review_right for d in days)
    print()
    print(f"answers {answers}, of which reviews {reviews} "
          f"({right / reviews:.0%} right)" if reviews else f"answers {answers}, no reviews")
    print()
    print("Three questions' schedules (each first answer of a local day):")
    for question, lines in schedules.items():
        print(f"- {question}: " + "; ".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--new-per-day", type=int, default=10, help="new questions a day")
    parser.add_argument("--new-days", type=int, default=10, help="days with new questions")
    parser.add_argument("--new-right", type=float, default=0.6,
                        help="chance of answering a new question right")
    parser.add_argument("--fuzz", action="store_true", help="spread due dates as in production")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    if args.quick:
        args.days, args.new_per_day, args.new_days = 6, 3, 2
    days, schedules = asyncio.run(simulate(
        args.days, args.new_per_day, args.new_days, args.new_right, args.fuzz, args.lessons,
        args.seed,
    ))
    report(days, schedules, args.fuzz)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
