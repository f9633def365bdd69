"""The maintainers' review: list, read and resolve learners' feedback, and the weekly digest.

In Discord a maintainer sees only their own guild's feedback (``guild_id`` is always given
there); the bot owner and ``tutorbot report`` see every guild (``guild_id=None``). Learners never
read each other's feedback: the adapters call this service only for maintainers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, Question
from bot.db.base import utcnow
from bot.db.models import Feedback, QuizAnswer
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError, NotFoundError
from bot.services.feedback import REPORT_REASONS
from bot.services.item_analysis import ItemStat, analyse, first_answers
from bot.services.sanitize import clean_text

KINDS = ("lesson", "ask", "question")
STATUSES = ("open", "resolved")
PER_PAGE = 5
MAX_NOTE_CHARS = 500


@dataclass(frozen=True)
class FeedbackItem:
    """One piece of feedback as a maintainer reads it."""

    id: int
    kind: str
    status: str
    created_at: datetime
    guild_id: int | None
    reporter_id: int  # to tell them when it is resolved; never shown to other learners
    lesson_id: str | None
    lesson_label: str | None
    snippet_id: str | None
    question_id: str | None
    rating: int | None
    reason: str | None
    comment: str | None
    resolved_at: datetime | None
    resolution_note: str | None

    @property
    def reason_label(self) -> str | None:
        """The reason as the reporter picked it."""
        return REPORT_REASONS.get(self.reason or "", self.reason)


@dataclass(frozen=True)
class FeedbackPage:
    """One page of a filtered list."""

    items: list[FeedbackItem]
    page: int  # 0-based
    pages: int
    total: int


@dataclass(frozen=True)
class FeedbackDetail:
    """One item with its context: the question and its statistics, or the /ask exchange."""

    item: FeedbackItem
    question: Question | None
    stats: ItemStat | None
    given: str | None  # what the reporter answered, for a report made from a quiz answer
    ask_question: str | None
    ask_answer: str | None


@dataclass(frozen=True)
class Resolution:
    """What resolving did: the item now, and whether someone else had resolved it first."""

    item: FeedbackItem
    already: bool


@dataclass(frozen=True)
class Digest:
    """A guild's week for its maintainers."""

    guild_id: int
    week: str  # ISO week, e.g. 2026-W49
    new_items: int
    open_items: int
    lowest_rated: list[tuple[str, float, int]]  # (lesson label, mean, ratings)
    most_reported: list[tuple[str, int]]  # (question id, reports)
    flagged: list[ItemStat]

    @property
    def empty(self) -> bool:
        """Nothing new and nothing to fix: the digest need not be posted."""
        return not (self.new_items or self.open_items or self.flagged)


def iso_week(moment: datetime) -> str:
    """``2026-W49`` for a moment (its own timezone decides the day)."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


class MaintainService:
    """Reads and resolves feedback for maintainers; builds the weekly digest."""

    def __init__(self, course: Course) -> None:
        self.course = course

    def _item(self, row: Feedback) -> FeedbackItem:
        lesson = self.course.lesson(row.lesson_id or "")
        return FeedbackItem(
            id=row.id,
            kind=row.kind,
            status=row.status,
            created_at=row.created_at,
            guild_id=row.guild_id,
            reporter_id=row.learner_id,
            lesson_id=row.lesson_id,
            lesson_label=lesson.label if lesson else row.lesson_id,
            snippet_id=row.snippet_id,
            question_id=row.question_id,
            rating=row.rating,
            reason=row.reason,
            comment=row.comment,
            resolved_at=row.resolved_at,
            resolution_note=row.resolution_note,
        )

    async def browse(
        self,
        session: AsyncSession,
        *,
        guild_id: int | None,
        lesson_id: str | None = None,
        kind: str | None = None,
        status: str | None = "open",
        page: int = 0,
        per_page: int = PER_PAGE,
    ) -> FeedbackPage:
        """Newest first, filtered; ``guild_id=None`` reads every guild (owner and CLI only).

        Thumbs on ``/ask`` answers without a comment are left out: they are counted in the
        report, and a list of bare 👍 would bury the comments maintainers act on.
        """
        if kind is not None and kind not in KINDS:
            raise InvalidInputError("The kind is one of: lesson, ask, question.")
        if status is not None and status not in STATUSES:
            raise InvalidInputError("The status is open or resolved.")
        if lesson_id is not None and self.course.lesson(lesson_id) is None:
            raise NotFoundError(f"There is no lesson {lesson_id!r}.")
        where: list[ColumnElement[bool]] = [Feedback.comment.is_not(None)]
        if guild_id is not None:
            where.append(Feedback.guild_id == guild_id)
        if lesson_id is not None:
            where.append(Feedback.lesson_id == lesson_id)
        if kind is not None:
            where.append(Feedback.kind == kind)
        if status is not None:
            where.append(Feedback.status == status)
        total = int(await session.scalar(select(func.count(Feedback.id)).where(*where)) or 0)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 0), pages - 1)
        rows = await session.scalars(
            select(Feedback)
            .where(*where)
            .order_by(Feedback.created_at.desc(), Feedback.id.desc())
            .offset(page * per_page)
            .limit(per_page)
        )
        return FeedbackPage([self._item(r) for r in rows], page, pages, total)

    async def _get(self, session: AsyncSession, feedback_id: int, guild_id: int | None) -> Feedback:
        row = await session.get(Feedback, feedback_id)
        # Another guild's feedback is reported as missing, not as forbidden: its existence is
        # not this maintainer's business either.
        if row is None or (guild_id is not None and row.guild_id != guild_id):
            raise NotFoundError(f"There is no feedback #{feedback_id} in this server.")
        return row

    async def show(
        self, session: AsyncSession, feedback_id: int, *, guild_id: int | None
    ) -> FeedbackDetail:
        """One item with its context; for a reported question, the key and its statistics."""
        row = await self._get(session, feedback_id, guild_id)
        question = self.course.questions.get(row.question_id or "")
        stats = None
        if question is not None:
            answers = await first_answers(session, guild_id=guild_id)
            stats = next(
                (s for s in analyse(self.course, answers) if s.question_id == question.id), None
            )
        given = None
        if row.quiz_answer_id is not None and question is not None:
            answer = await session.get(QuizAnswer, row.quiz_answer_id)
            if answer is not None:
                if answer.choice_id is not None:
                    choice = question.choice(answer.choice_id)
                    given = choice.text if choice else answer.choice_id
                elif answer.value is not None:
                    given = f"{answer.value:g}"
        ask_question = ask_answer = None
        if row.ask_log_id is not None:
            log = await session.get(AskLog, row.ask_log_id)
            if log is not None:
                ask_question, ask_answer = log.question, log.answer
        return FeedbackDetail(
            item=self._item(row), question=question, stats=stats, given=given,
            ask_question=ask_question, ask_answer=ask_answer,
        )

    async def resolve(
        self,
        session: AsyncSession,
        feedback_id: int,
        maintainer_id: int,
        note: str | None = None,
        *,
        guild_id: int | None,
    ) -> Resolution:
        """Mark an item resolved, once: a second resolve (or a race) changes nothing."""
        row = await self._get(session, feedback_id, guild_id)
        text = clean_text(note, MAX_NOTE_CHARS) or None
        result = await session.execute(
            update(Feedback)
            .where(Feedback.id == row.id, Feedback.status == "open")
            .values(status="resolved", resolved_at=utcnow(), resolved_by=maintainer_id,
                    resolution_note=text)
        )
        already = result.rowcount == 0  # type: ignore[attr-defined]
        await session.refresh(row)
        return Resolution(self._item(row), already)

    async def mark_notified(self, session: AsyncSession, feedback_id: int) -> None:
        """The reporter was told their feedback was resolved."""
        await session.execute(
            update(Feedback).where(Feedback.id == feedback_id).values(reporter_notified_at=utcnow())
        )

    async def unnotified(self, session: AsyncSession, learner_id: int) -> list[FeedbackItem]:
        """The learner's resolved feedback they have not been told about yet."""
        rows = await session.scalars(
            select(Feedback).where(
                Feedback.learner_id == learner_id,
                Feedback.status == "resolved",
                Feedback.reporter_notified_at.is_(None),
            ).order_by(Feedback.id)
        )
        return [self._item(r) for r in rows]

    async def take_unnotified(
        self, session: AsyncSession, learner_id: int
    ) -> list[FeedbackItem]:
        """:meth:`unnotified`, marked as told (the caller shows them in its reply)."""
        items = await self.unnotified(session, learner_id)
        if items:
            await session.execute(
                update(Feedback)
                .where(Feedback.id.in_([item.id for item in items]))
                .values(reporter_notified_at=utcnow())
            )
        return items

    async def digest(
        self, session: AsyncSession, guild_id: int, *, now: datetime | None = None
    ) -> Digest:
        """The guild's last seven days: new and open items, lowest-rated lessons, flags."""
        moment = now or utcnow()
        since = moment - timedelta(days=7)
        new_items = int(await session.scalar(
            select(func.count(Feedback.id)).where(
                Feedback.guild_id == guild_id, Feedback.created_at >= since,
                Feedback.comment.is_not(None),
            )
        ) or 0)
        open_items = int(await session.scalar(
            select(func.count(Feedback.id)).where(
                Feedback.guild_id == guild_id, Feedback.status == "open",
                Feedback.comment.is_not(None),
            )
        ) or 0)
        ratings = await session.execute(
            select(Feedback.lesson_id, func.avg(Feedback.rating), func.count())
            .where(Feedback.guild_id == guild_id, Feedback.kind == "lesson",
                   Feedback.rating.between(1, 5))
            .group_by(Feedback.lesson_id)
        )
        lowest = []
        for lesson_id, mean, count in ratings:
            lesson = self.course.lesson(lesson_id or "")
            lowest.append((lesson.label if lesson else str(lesson_id), float(mean), int(count)))
        lowest.sort(key=lambda x: x[1])
        reported = await session.execute(
            select(Feedback.question_id, func.count())
            .where(Feedback.guild_id == guild_id, Feedback.kind == "question",
                   Feedback.status == "open")
            .group_by(Feedback.question_id)
            .order_by(func.count().desc(), Feedback.question_id)
            .limit(5)
        )
        stats = analyse(self.course, await first_answers(session, guild_id=guild_id))
        flagged = [s for s in stats if any(c != "too-few" for c in s.flag_codes)]
        return Digest(
            guild_id=guild_id,
            week=iso_week(moment),
            new_items=new_items,
            open_items=open_items,
            lowest_rated=lowest[:3],
            most_reported=[(str(q), int(n)) for q, n in reported],
            flagged=flagged[:5],
        )
