"""Progress: course completion, accuracy per lesson, daily streaks, and the leaderboard.

Points come only from the *first* correct answer a learner gives to each question, so retaking a
quiz cannot farm points. A guild's board counts only answers given in that guild; the weekly
board counts first-correct answers made in the last 7 days.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, Lesson
from bot.db.base import utcnow
from bot.db.models import Learner, LessonProgress, QuizAnswer, ReviewCard, SnippetView
from bot.services.learners import local_now
from bot.services.memory import MemoryModel

WEEK = timedelta(days=7)
#: Days the reviews chart looks ahead (today first).
REVIEW_DAYS = 14
#: The predicted chance of recalling a card at a moment: (stability, last review, now) -> 0..1.
Retrievability = Callable[[float | None, datetime | None, datetime], float]

@dataclass(frozen=True)
class ReviewOutlook:
    """Spaced repetition in /progress: what is due, and how much the learner likely recalls."""

    cards: int  # questions with a memory state (suspended ones left out)
    due_today: int  # due before the end of the learner's local day, overdue ones included
    retention: float | None  # mean predicted recall now over answered questions; None: none
    per_day: tuple[tuple[date, int], ...]  # the next REVIEW_DAYS local days, today first


@dataclass(frozen=True)
class LessonProgressView:
    """One lesson's reading and quiz figures for a learner."""

    lesson: Lesson
    read: int
    done: bool
    answered: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        """Share of answers that were right, or ``None`` with no answers yet."""
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class Streak:
    """Consecutive days (in the learner's time zone) with at least one answer."""

    current: int
    longest: int
    answered_today: bool


@dataclass(frozen=True)
class BoardEntry:
    """One line of a leaderboard."""

    rank: int
    learner_id: int
    name: str
    points: int


@dataclass(frozen=True)
class ProgressSummary:
    """Everything /progress shows."""

    learner_id: int
    name: str
    lessons: list[LessonProgressView]
    lessons_done: int
    lessons_total: int
    answered: int
    correct: int
    streak: Streak
    points: int
    rank: int | None  # on the board of the guild asked about (None outside a guild / no points)
    reviews: ReviewOutlook

    @property
    def completion(self) -> float:
        """Share of lessons finished."""
        return self.lessons_done / self.lessons_total if self.lessons_total else 0.0

    @property
    def accuracy(self) -> float | None:
        """Overall share of right answers."""
        return self.correct / self.answered if self.answered else None


def streak_from_days(days: set[date], today: date) -> Streak:
    """Current and longest run of consecutive days; a run still counts if it ended yesterday."""
    if not days:
        return Streak(0, 0, False)
    ordered = sorted(days)
    longest = run = 1
    for previous, day in itertools.pairwise(ordered):
        run = run + 1 if day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
    current = 0
    cursor = today if today in days else today - timedelta(days=1)
    while cursor in days:
        current += 1
        cursor -= timedelta(days=1)
    return Streak(current=current, longest=longest, answered_today=today in days)


class ProgressService:
    """Reads progress; never writes."""

    def __init__(self, course: Course, memory: MemoryModel | None = None) -> None:
        self.course = course
        #: The memory model's forgetting curve (the FSRS weights; not retention or fuzzing).
        self.retrievability: Retrievability = (memory or MemoryModel()).retrievability

    async def review_outlook(
        self, session: AsyncSession, learner_id: int, timezone: str, now: datetime | None = None
    ) -> ReviewOutlook:
        """Reviews due today and per day ahead (the learner's local days), and retention now."""
        now = now or utcnow()
        local = local_now(timezone, now)
        today = local.date()
        rows = (await session.execute(
            select(ReviewCard.due, ReviewCard.stability, ReviewCard.last_review).where(
                ReviewCard.learner_id == learner_id, ReviewCard.suspended.is_(False)
            )
        )).all()
        counts = dict.fromkeys((today + timedelta(days=n) for n in range(REVIEW_DAYS)), 0)
        recalls = []
        for due, stability, last_review in rows:
            day = max(local_now(timezone, due).date(), today)  # overdue: due today
            if day in counts:
                counts[day] += 1
            if last_review is not None:
                recalls.append(self.retrievability(stability, last_review, now))
        end_of_today = datetime.combine(today + timedelta(days=1), time(), tzinfo=local.tzinfo)
        return ReviewOutlook(
            cards=len(rows),
            due_today=sum(1 for due, _, _ in rows if due < end_of_today),
            retention=sum(recalls) / len(recalls) if recalls else None,
            per_day=tuple(counts.items()),
        )

    async def streak(
        self, session: AsyncSession, learner_id: int, timezone: str, now: datetime | None = None
    ) -> Streak:
        """The learner's answer streak, counted in their time zone."""
        moments = await session.scalars(
            select(QuizAnswer.answered_at).where(QuizAnswer.learner_id == learner_id)
        )
        today = local_now(timezone, now).date()
        days = {local_now(timezone, moment).date() for moment in moments}
        return streak_from_days(days, today)

    async def leaderboard(
        self,
        session: AsyncSession,
        guild_id: int | None,
        *,
        since: datetime | None = None,
        limit: int = 10,
    ) -> list[BoardEntry]:
        """Top learners by points. ``guild_id=None`` counts answers given anywhere."""
        entries = await self._board(session, guild_id, since)
        return entries[:limit]

    async def _board(
        self, session: AsyncSession, guild_id: int | None, since: datetime | None
    ) -> list[BoardEntry]:
        first = select(
            QuizAnswer.learner_id,
            QuizAnswer.question_id,
            func.min(QuizAnswer.answered_at).label("first_at"),
        ).where(QuizAnswer.correct.is_(True))
        if guild_id is not None:
            first = first.where(QuizAnswer.guild_id == guild_id)
        first_sub = first.group_by(QuizAnswer.learner_id, QuizAnswer.question_id).subquery()
        board = select(
            first_sub.c.learner_id,
            func.count().label("points"),
            func.max(first_sub.c.first_at).label("reached_at"),
        )
        if since is not None:
            board = board.where(first_sub.c.first_at >= since)
        board_sub = board.group_by(first_sub.c.learner_id).subquery()
        rows = await session.execute(
            select(board_sub.c.learner_id, board_sub.c.points, Learner.display_name)
            .join(Learner, Learner.id == board_sub.c.learner_id)
            # Forgotten learners' answers count in statistics, never on a board.
            .where(Learner.pseudonym.is_(False))
            .order_by(
                board_sub.c.points.desc(),
                board_sub.c.reached_at.asc(),
                board_sub.c.learner_id.asc(),
            )
        )
        entries: list[BoardEntry] = []
        previous_points, rank = None, 0
        for position, row in enumerate(rows, start=1):
            if row.points != previous_points:
                rank, previous_points = position, row.points
            entries.append(
                BoardEntry(
                    rank=rank,
                    learner_id=row.learner_id,
                    name=row.display_name or f"learner {row.learner_id}",
                    points=int(row.points),
                )
            )
        return entries

    async def summary(
        self,
        session: AsyncSession,
        learner_id: int,
        *,
        guild_id: int | None,
        now: datetime | None = None,
    ) -> ProgressSummary:
        """Completion, accuracy per lesson, streak, points and rank for one learner."""
        learner = await session.get(Learner, learner_id)
        timezone = learner.timezone if learner else "UTC"
        read_rows = await session.execute(
            select(SnippetView.lesson_id, func.count())
            .where(
                SnippetView.learner_id == learner_id,
                SnippetView.snippet_id.in_(list(self.course.snippets)),
            )
            .group_by(SnippetView.lesson_id)
        )
        read = {row[0]: int(row[1]) for row in read_rows}
        done = set(
            await session.scalars(
                select(LessonProgress.lesson_id).where(
                    LessonProgress.learner_id == learner_id,
                    LessonProgress.completed_at.is_not(None),
                )
            )
        )
        answer_rows = await session.execute(
            select(
                QuizAnswer.lesson_id,
                func.count(),
                func.sum(case((QuizAnswer.correct.is_(True), 1), else_=0)),
            )
            .where(QuizAnswer.learner_id == learner_id)
            .group_by(QuizAnswer.lesson_id)
        )
        answers = {row[0]: (int(row[1]), int(row[2] or 0)) for row in answer_rows}
        lessons = [
            LessonProgressView(
                lesson=lesson,
                read=read.get(lesson.id, 0),
                done=lesson.id in done,
                answered=answers.get(lesson.id, (0, 0))[0],
                correct=answers.get(lesson.id, (0, 0))[1],
            )
            for lesson in self.course.lessons
        ]
        board = await self._board(session, guild_id, None)
        mine = next((entry for entry in board if entry.learner_id == learner_id), None)
        return ProgressSummary(
            learner_id=learner_id,
            name=(learner.display_name if learner else "") or f"learner {learner_id}",
            lessons=lessons,
            lessons_done=sum(1 for view in lessons if view.done),
            lessons_total=len(lessons),
            answered=sum(view.answered for view in lessons),
            correct=sum(view.correct for view in lessons),
            streak=await self.streak(session, learner_id, timezone, now),
            points=mine.points if mine else 0,
            rank=mine.rank if mine and guild_id is not None else None,
            reviews=await self.review_outlook(session, learner_id, timezone, now),
        )

    @staticmethod
    def week_start(now: datetime | None = None) -> datetime:
        """The start of the rolling 7-day window for the weekly board."""
        return (now or utcnow()) - WEEK


class Period(StrEnum):
    """Which answers a leaderboard counts."""

    WEEK = "week"
    ALL = "all"
