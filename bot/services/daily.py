"""Posted daily quizzes: claim, question choice, marking posted, closing and the results.

Posting exactly once is claim → send → mark:

1. :meth:`DailyService.claim` inserts the ``daily_post`` row, unique on ``(schedule, local
   date)``, with ``INSERT … ON CONFLICT DO NOTHING``. Only the process whose insert wins posts;
   a second fire the same local day (DST fall-back, an edited time, a restart, another
   process) gets ``None``.
2. The runner sends the message with the claim's ``nonce`` (Discord's ``enforce_nonce`` returns
   the first message instead of a second one for a few minutes).
3. :meth:`DailyService.mark_posted` stores the message id. A claim left without one is retried
   by the leader (see :mod:`bot.jobs.daily`).

Nothing here talks to Discord: the runner does, through :class:`bot.jobs.ports.Publisher`.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Choice, Course, Question
from bot.db.base import utcnow
from bot.db.models import Learner, QuizAnswer
from bot.db.models.daily import NONCE_MAX_CHARS, DailyAnswer, DailyPost, JobClaim, Schedule
from bot.db.upsert import insert_ignore
from bot.errors import NotFoundError
from bot.services.quiz import shuffled_choices
from bot.services.schedules import choice_pool

#: How many correct answerers the results name.
FIRST_CORRECT_SHOWN = 5
#: Source ``review``: the answers it ranks questions by, and how long a posted one rests.
REVIEW_ANSWERS_WINDOW = timedelta(days=30)
REVIEW_REST = timedelta(days=14)


def nonce_for(schedule_id: int, local_date: date) -> str:
    """The message nonce of a claim: derived from ``(schedule, local date)``, ≤ 25 characters."""
    nonce = f"dq{schedule_id}.{local_date:%Y%m%d}"
    assert len(nonce) <= NONCE_MAX_CHARS
    return nonce


@dataclass(frozen=True)
class PostToSend:
    """Everything the publisher needs to render and send (or re-send) a daily post."""

    post_id: int
    schedule_id: int | None
    guild_id: int
    channel_id: int
    local_date: date
    nonce: str
    question: Question
    choices: tuple[Choice, ...]  # in the order shown (fixed by the post id)
    reveal: str  # 'instant' | 'at_close'
    ping_role_id: int | None
    use_thread: bool
    due_at: datetime
    claimed_at: datetime
    closes_at: datetime
    message_id: int | None
    attempts: int


@dataclass(frozen=True)
class PostState:
    """A post as a button click sees it: which question, and whether it still takes answers."""

    post_id: int
    guild_id: int
    channel_id: int
    question: Question
    choices: tuple[Choice, ...]
    reveal: str
    closes_at: datetime
    closed: bool
    message_id: int | None


@dataclass(frozen=True)
class Results:
    """What the results message shows when a post closes."""

    post_id: int
    guild_id: int
    channel_id: int
    message_id: int | None  # the quiz message, to edit (buttons disabled)
    question: Question
    choices: tuple[Choice, ...]
    right_choice: Choice | None
    answered: int
    correct: int
    first_correct: list[tuple[int, str]]  # (learner id, display name), earliest first
    results_message_id: int | None
    nonce: str  # for the results message

    @property
    def share_right(self) -> float | None:
        """Share of answers that were right, or ``None`` with no answers."""
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class ReviewCandidate:
    """A question source ``review`` may post: how this guild answered it lately."""

    question: Question
    answered: int
    correct: int

    @property
    def share_right(self) -> float:
        """Share of this guild's recent answers to it that were right."""
        return self.correct / self.answered


def _choices(question: Question, post_id: int) -> tuple[Choice, ...]:
    return shuffled_choices(question, post_id)


class DailyService:
    """Claims, marks, reads and closes daily posts."""

    def __init__(self, course: Course) -> None:
        self.course = course

    # --- question choice -------------------------------------------------------------------

    async def choose_question(
        self,
        session: AsyncSession,
        channel_id: int,
        lesson_id: str | None,
        rng: random.Random,
        *,
        source: str = "random",
        guild_id: int | None = None,
        now: datetime | None = None,
    ) -> Question | None:
        """The question to post next in this channel.

        Source ``review`` takes the hardest of :meth:`review_candidates` (the lowest share
        right); with no candidate (no answers in the guild lately, or every answered one
        posted here recently) it falls back to the rule of ``random`` and ``lesson``: a
        question not yet posted in this channel, among the pool's least-posted ones, so a
        question repeats only when every other one has been posted as often.
        """
        if source == "review" and guild_id is not None:
            candidates = await self.review_candidates(
                session, guild_id, channel_id, lesson_id, now=now
            )
            if candidates:
                hardest = candidates[0]
                ties = [
                    c.question for c in candidates
                    if (c.share_right, c.answered) == (hardest.share_right, hardest.answered)
                ]
                return rng.choice(ties)
        pool = choice_pool(self.course, lesson_id)
        if not pool:
            return None
        rows = await session.execute(
            select(DailyPost.question_id, func.count())
            .where(DailyPost.channel_id == channel_id)
            .group_by(DailyPost.question_id)
        )
        counts = Counter({question_id: int(count) for question_id, count in rows})
        fewest = min(counts.get(q.id, 0) for q in pool)
        least_posted = sorted(
            (q for q in pool if counts.get(q.id, 0) == fewest), key=lambda q: q.id
        )
        return rng.choice(least_posted)

    async def review_candidates(
        self,
        session: AsyncSession,
        guild_id: int,
        channel_id: int,
        lesson_id: str | None,
        *,
        now: datetime | None = None,
    ) -> list[ReviewCandidate]:
        """What source ``review`` may post in a channel, hardest first.

        The pool's choice questions that this guild answered in the last 30 days (practice
        quizzes and daily posts alike: daily answers are stored as quiz answers too), minus
        those posted in this channel in the last 14 days; ordered by the share of those
        answers that were right, then by more answers (better evidence), then by id. Empty
        when there is no such answer yet: the caller falls back to the random rule.
        """
        now = now or utcnow()
        pool = {q.id: q for q in choice_pool(self.course, lesson_id)}
        if not pool:
            return []
        rows = await session.execute(
            select(
                QuizAnswer.question_id,
                func.count(),
                func.coalesce(func.sum(case((QuizAnswer.correct.is_(True), 1), else_=0)), 0),
            )
            .where(
                QuizAnswer.guild_id == guild_id,
                QuizAnswer.answered_at >= now - REVIEW_ANSWERS_WINDOW,
                QuizAnswer.question_id.in_(list(pool)),
            )
            .group_by(QuizAnswer.question_id)
        )
        resting = set(
            await session.scalars(
                select(DailyPost.question_id).where(
                    DailyPost.channel_id == channel_id,
                    DailyPost.due_at > now - REVIEW_REST,
                )
            )
        )
        found = [
            ReviewCandidate(pool[question_id], int(answered), int(correct))
            for question_id, answered, correct in rows
            if question_id not in resting and answered
        ]
        return sorted(found, key=lambda c: (c.share_right, -c.answered, c.question.id))

    # --- claim, send, mark -----------------------------------------------------------------

    async def claim(
        self,
        session: AsyncSession,
        schedule_id: int,
        due_at: datetime,
        *,
        now: datetime | None = None,
        rng: random.Random | None = None,
        schedule: Schedule | None = None,
    ) -> PostToSend | None:
        """Claim the post of ``schedule_id`` for the local date of ``due_at``.

        Returns ``None`` when it is not to be posted: the schedule is gone or paused, that
        local date is skipped, no question fits, or the day is already claimed (by this or
        another process). The caller commits, then sends.
        """
        now = now or utcnow()
        if schedule is None:  # the caller may pass the row it just read, in this transaction
            schedule = await session.get(Schedule, schedule_id, populate_existing=True)
        if schedule is None or schedule.paused_at is not None:
            return None
        local_date = due_at.astimezone(ZoneInfo(schedule.timezone)).date()
        if schedule.skip_date == local_date:
            return None
        question = await self.choose_question(
            session, schedule.channel_id, schedule.lesson_id, rng or random.Random(),
            source=schedule.source, guild_id=schedule.guild_id, now=now,
        )
        if question is None:
            return None
        values: dict[str, Any] = {
            "schedule_id": schedule.id,
            "guild_id": schedule.guild_id,
            "local_date": local_date,
            "question_id": question.id,
            "channel_id": schedule.channel_id,
            "reveal": schedule.reveal,
            "ping_role_id": schedule.ping_role_id,
            "use_thread": schedule.use_thread,
            "nonce": nonce_for(schedule.id, local_date),
            "due_at": due_at,
            "claimed_at": now,
            "closes_at": due_at + timedelta(minutes=schedule.close_after),
            "attempts": 0,
        }
        connection = await session.connection()
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        post_id = await connection.scalar(
            insert(DailyPost).values(values).on_conflict_do_nothing().returning(DailyPost.id)
        )
        if post_id is None:  # the day was claimed already
            return None
        return PostToSend(
            post_id=post_id, schedule_id=schedule.id, guild_id=schedule.guild_id,
            channel_id=schedule.channel_id, local_date=local_date, nonce=values["nonce"],
            question=question, choices=_choices(question, post_id), reveal=schedule.reveal,
            ping_role_id=schedule.ping_role_id, use_thread=schedule.use_thread, due_at=due_at,
            claimed_at=now, closes_at=values["closes_at"], message_id=None, attempts=0,
        )

    async def post_to_send(self, session: AsyncSession, post_id: int) -> PostToSend:
        """A claimed post, ready to send (or re-send)."""
        row = await session.get(DailyPost, post_id, populate_existing=True)
        if row is None:
            raise NotFoundError("That daily quiz no longer exists.")
        question = self._question(row.question_id)
        return PostToSend(
            post_id=row.id, schedule_id=row.schedule_id, guild_id=row.guild_id,
            channel_id=row.channel_id, local_date=row.local_date, nonce=row.nonce,
            question=question, choices=_choices(question, row.id), reveal=row.reveal,
            ping_role_id=row.ping_role_id, use_thread=row.use_thread, due_at=row.due_at,
            claimed_at=row.claimed_at, closes_at=row.closes_at, message_id=row.message_id,
            attempts=row.attempts,
        )

    def _question(self, question_id: str) -> Question:
        question = self.course.questions.get(question_id)
        if question is None:
            raise NotFoundError("This daily quiz's question was removed from the course.")
        return question

    async def mark_posted(
        self, session: AsyncSession, post_id: int, message_id: int, now: datetime | None = None
    ) -> None:
        """Store the message id Discord gave the post (the post is done)."""
        now = now or utcnow()
        await session.execute(
            update(DailyPost)
            .where(DailyPost.id == post_id)
            .values(message_id=message_id, posted_at=now, last_error=None,
                    attempts=DailyPost.attempts + 1)
        )

    async def record_attempt_failed(
        self,
        session: AsyncSession,
        post_id: int,
        error: str,
        *,
        permanent: bool,
        now: datetime | None = None,
    ) -> None:
        """Count a failed send; a permanent failure (404/403, grace passed) is never retried."""
        now = now or utcnow()
        values: dict[str, Any] = {"attempts": DailyPost.attempts + 1, "last_error": error[:300]}
        if permanent:
            values["failed_at"] = now
        await session.execute(update(DailyPost).where(DailyPost.id == post_id).values(**values))

    async def unposted(
        self, session: AsyncSession, *, since: datetime
    ) -> list[PostToSend]:
        """Claims still without a message, not given up on, claimed since ``since``."""
        ids = await session.scalars(
            select(DailyPost.id)
            .where(
                DailyPost.message_id.is_(None),
                DailyPost.failed_at.is_(None),
                DailyPost.closed_at.is_(None),
                DailyPost.claimed_at >= since,
            )
            .order_by(DailyPost.id)
        )
        return [await self.post_to_send(session, post_id) for post_id in list(ids)]

    async def give_up_unposted(
        self, session: AsyncSession, *, before: datetime, now: datetime | None = None
    ) -> int:
        """Mark claims older than ``before`` that never got a message as failed; how many."""
        now = now or utcnow()
        result = await session.execute(
            update(DailyPost)
            .where(
                DailyPost.message_id.is_(None),
                DailyPost.failed_at.is_(None),
                DailyPost.claimed_at < before,
            )
            .values(failed_at=now, last_error="not posted within the grace window")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def last_posts(
        self, session: AsyncSession, schedule_id: int, limit: int = 5
    ) -> list[DailyPost]:
        """The schedule's latest posts, newest first (for /schedule list and tests)."""
        rows = await session.scalars(
            select(DailyPost)
            .where(DailyPost.schedule_id == schedule_id)
            .order_by(DailyPost.local_date.desc())
            .limit(limit)
        )
        return list(rows)

    # --- answering (reads; the write is bot.services.answer_batch) -------------------------

    async def state(
        self, session: AsyncSession, post_id: int, now: datetime | None = None
    ) -> PostState:
        """A post's question and whether it still takes answers."""
        row = await session.get(DailyPost, post_id, populate_existing=True)
        if row is None:
            raise NotFoundError("That daily quiz no longer exists.")
        question = self._question(row.question_id)
        now = now or utcnow()
        return PostState(
            post_id=row.id, guild_id=row.guild_id, channel_id=row.channel_id, question=question,
            choices=_choices(question, row.id), reveal=row.reveal, closes_at=row.closes_at,
            closed=row.closed_at is not None or row.closes_at <= now,
            message_id=row.message_id,
        )

    # --- closing ---------------------------------------------------------------------------

    async def due_to_close(self, session: AsyncSession, now: datetime | None = None) -> list[int]:
        """Posts to close now: open past their closing time, or closed without results yet."""
        now = now or utcnow()
        rows = await session.scalars(
            select(DailyPost.id)
            .where(
                DailyPost.message_id.is_not(None),
                or_(
                    and_(DailyPost.closed_at.is_(None), DailyPost.closes_at <= now),
                    and_(DailyPost.closed_at.is_not(None),
                         DailyPost.results_message_id.is_(None)),
                ),
            )
            .order_by(DailyPost.closes_at)
        )
        return list(rows)

    async def next_close_at(self, session: AsyncSession) -> datetime | None:
        """When the next open post closes."""
        return await session.scalar(
            select(func.min(DailyPost.closes_at)).where(
                DailyPost.closed_at.is_(None), DailyPost.message_id.is_not(None)
            )
        )

    async def close(
        self, session: AsyncSession, post_id: int, now: datetime | None = None
    ) -> Results | None:
        """Stop taking answers (idempotent) and return the results to post.

        ``None`` when the post's question was removed from the course (a live reload) while it
        was open: the post is closed with no results to post (marked as such, never retried);
        its answers stay recorded.
        """
        now = now or utcnow()
        await session.execute(
            update(DailyPost)
            .where(DailyPost.id == post_id, DailyPost.closed_at.is_(None))
            .values(closed_at=now)
        )
        question_id = await session.scalar(
            select(DailyPost.question_id).where(DailyPost.id == post_id)
        )
        if question_id is not None and question_id not in self.course.questions:
            await self.mark_results_posted(session, post_id, 0)  # 0: nothing to post
            return None
        return await self.results(session, post_id)

    async def results(self, session: AsyncSession, post_id: int) -> Results:
        """The right answer, how many answered, the share right and the first five right."""
        row = await session.get(DailyPost, post_id, populate_existing=True)
        if row is None:
            raise NotFoundError("That daily quiz no longer exists.")
        question = self._question(row.question_id)
        counts = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((DailyAnswer.correct.is_(True), 1), else_=0)), 0),
                ).where(DailyAnswer.post_id == post_id)
            )
        ).one()
        first = (
            await session.execute(
                select(DailyAnswer.learner_id, Learner.display_name)
                .join(Learner, Learner.id == DailyAnswer.learner_id)
                .where(DailyAnswer.post_id == post_id, DailyAnswer.correct.is_(True))
                .order_by(DailyAnswer.answered_at, DailyAnswer.learner_id)
                .limit(FIRST_CORRECT_SHOWN)
            )
        ).all()
        return Results(
            post_id=row.id, guild_id=row.guild_id, channel_id=row.channel_id,
            message_id=row.message_id, question=question, choices=_choices(question, row.id),
            right_choice=question.choice(question.answer_choice or ""),
            answered=int(counts[0]), correct=int(counts[1]),
            first_correct=[(r.learner_id, r.display_name or f"learner {r.learner_id}")
                           for r in first],
            results_message_id=row.results_message_id,
            nonce=f"dr{row.id}"[:NONCE_MAX_CHARS],
        )

    async def mark_results_posted(
        self, session: AsyncSession, post_id: int, message_id: int
    ) -> None:
        """Store the results message id (the close is done)."""
        await session.execute(
            update(DailyPost).where(DailyPost.id == post_id)
            .values(results_message_id=message_id)
        )


async def claim_job(
    session: AsyncSession, kind: str, key: str, now: datetime | None = None
) -> bool:
    """Claim a one-off job (e.g. ``("digest", "123:2026-W49")``); ``True`` if this call won."""
    return await insert_ignore(
        session, JobClaim, kind=kind[:32], key=key[:100], claimed_at=now or utcnow()
    )


async def finish_job(
    session: AsyncSession, kind: str, key: str, now: datetime | None = None
) -> None:
    """Mark a claimed job done."""
    await session.execute(
        update(JobClaim)
        .where(JobClaim.kind == kind, JobClaim.key == key)
        .values(done_at=now or utcnow())
    )


__all__ = [
    "FIRST_CORRECT_SHOWN",
    "DailyService",
    "PostState",
    "PostToSend",
    "Results",
    "ReviewCandidate",
    "claim_job",
    "finish_job",
    "nonce_for",
]
