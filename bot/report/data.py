"""What the maintainers' report shows, read from the database in one pass.

Every figure here is computed from the tables the bot already writes (reading progress, quiz
answers, feedback, the ``/ask`` log); nothing is stored for the report's sake. Filters: ``since``
(answers, feedback and questions from that moment on) and ``guild_id`` (one server only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course
from bot.db.base import utcnow
from bot.db.models import Feedback, GuildMember, LessonProgress, QuizAnswer, SnippetView
from bot.db.models.ask import AskLog
from bot.services.item_analysis import AnswerRecord, ItemStat, analyse, first_answers

#: Questions the course could not answer are grouped when their embeddings are at least this close.
GROUP_COSINE = 0.70


@dataclass(frozen=True)
class LessonRow:
    """One lesson's ratings and completion funnel."""

    lesson_id: str
    number: int
    title: str
    ratings: int
    mean_rating: float | None
    started: int  # learners who read at least one snippet
    finished: int  # learners who marked it done
    quizzed: int  # learners who answered at least one of its questions
    answers: int
    facility: float | None  # share of first answers that were right


@dataclass(frozen=True)
class FeedbackRow:
    """One piece of feedback, as maintainers read it (no learner identity)."""

    id: int
    created_at: datetime
    guild_id: int | None
    kind: str  # lesson | ask | question
    lesson_id: str | None
    snippet_id: str | None
    question_id: str | None
    rating: int | None
    comment: str | None
    ask_question: str | None  # the /ask question rated, for feedback on an answer


@dataclass(frozen=True)
class ReportedQuestion:
    """A quiz question learners commented on or reported."""

    question_id: str
    prompt: str
    reports: int
    comments: tuple[str, ...]


@dataclass(frozen=True)
class AskGroup:
    """Questions the course could not answer that mean about the same thing."""

    size: int
    example: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class ThumbsDown:
    """An /ask answer a learner rated 👎."""

    ask_log_id: int
    created_at: datetime
    engine: str
    question: str
    answer: str


@dataclass
class ReportData:
    """Everything the report shows."""

    generated_at: datetime
    since: datetime | None
    guild_id: int | None
    lessons: list[LessonRow]
    items: list[ItemStat]
    daily_items: list[ItemStat]
    feedback: list[FeedbackRow]
    reported: list[ReportedQuestion]
    unanswered: list[AskGroup]
    thumbs_down: list[ThumbsDown]
    # day (ISO date) -> "engine" or "engine: fallback reason" -> questions
    ask_by_day: dict[str, dict[str, int]] = field(default_factory=dict)
    learners: int = 0
    ask_questions: int = 0

    @property
    def empty(self) -> bool:
        """Nothing happened yet (or nothing in the filter)."""
        return not (
            self.items or self.daily_items or self.feedback or self.ask_questions or self.learners
        )

    @property
    def flagged(self) -> list[ItemStat]:
        """Questions with a flag other than "too few to judge"."""
        return [i for i in self.items if any(c != "too-few" for c in i.flag_codes)]


def group_questions(
    questions: Sequence[str],
    embed: Callable[[Sequence[str]], object],
    threshold: float = GROUP_COSINE,
) -> list[AskGroup]:
    """Greedy grouping: each question joins the first group whose first question is this close.

    ``embed`` returns unit vectors (a NumPy array, one row per question); cosine is their dot
    product. Deterministic: groups are formed in the order given and listed largest first.
    """
    import numpy as np

    if not questions:
        return []
    vectors = np.asarray(embed(list(questions)), dtype=np.float32)
    leaders: list[int] = []
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(questions)):
        for leader in leaders:
            if float(vectors[i] @ vectors[leader]) >= threshold:
                members[leader].append(i)
                break
        else:
            leaders.append(i)
            members[i].append(i)
    groups = [
        AskGroup(
            size=len(members[leader]),
            example=questions[leader],
            questions=tuple(questions[i] for i in members[leader]),
        )
        for leader in leaders
    ]
    return sorted(groups, key=lambda g: -g.size)


async def gather(
    session: AsyncSession,
    course: Course,
    *,
    since: datetime | None = None,
    guild_id: int | None = None,
    include_all_answers: bool = False,
    embed: Callable[[Sequence[str]], object] | None = None,
    min_answers: int | None = None,
) -> ReportData:
    """Read every figure of the report. ``embed`` groups unanswered questions (None: one each)."""
    answers = await first_answers(
        session, guild_id=guild_id, since=since, include_all=include_all_answers
    )
    kwargs = {} if min_answers is None else {"min_answers": min_answers}
    items = analyse(course, answers, **kwargs)
    daily_answers = await first_answers(
        session, guild_id=guild_id, since=since, include_all=include_all_answers, source="daily"
    )
    daily_items = analyse(course, daily_answers, **kwargs)

    lessons = await _lessons(session, course, since=since, guild_id=guild_id, answers=answers)
    feedback_rows = await _feedback(session, since=since, guild_id=guild_id)
    reported = _reported(course, feedback_rows)

    ask_query = select(
        AskLog.id, AskLog.question, AskLog.answer, AskLog.engine, AskLog.fallback_reason,
        AskLog.citations, AskLog.created_at,
    )
    if since is not None:
        ask_query = ask_query.where(AskLog.created_at >= since)
    if guild_id is not None:
        ask_query = ask_query.where(AskLog.guild_id == guild_id)
    ask_rows = (await session.execute(ask_query.order_by(AskLog.id))).all()
    unanswered_texts = [
        row.question for row in ask_rows
        if row.question and (row.answer is None or not row.citations)
    ]
    if embed is None:
        unanswered = [AskGroup(1, q, (q,)) for q in unanswered_texts]
    else:
        unanswered = group_questions(unanswered_texts, embed)
    by_day: dict[str, Counter[str]] = defaultdict(Counter)
    for row in ask_rows:
        label = row.engine + (f": {row.fallback_reason}" if row.fallback_reason else "")
        by_day[row.created_at.date().isoformat()][label] += 1

    down_query = (
        select(AskLog.id, AskLog.created_at, AskLog.engine, AskLog.question, AskLog.answer)
        .join(Feedback, Feedback.ask_log_id == AskLog.id)
        .where(Feedback.rating == -1)
        .distinct()
        .order_by(AskLog.id.desc())
    )
    if since is not None:
        down_query = down_query.where(Feedback.created_at >= since)
    if guild_id is not None:
        down_query = down_query.where(AskLog.guild_id == guild_id)
    thumbs_down = [
        ThumbsDown(r.id, r.created_at, r.engine, r.question, r.answer or "")
        for r in await session.execute(down_query)
    ]

    learners_query = select(func.count(distinct(QuizAnswer.learner_id)))
    if guild_id is not None:
        learners_query = learners_query.where(QuizAnswer.guild_id == guild_id)
    if since is not None:
        learners_query = learners_query.where(QuizAnswer.answered_at >= since)
    learners = int(await session.scalar(learners_query) or 0)

    return ReportData(
        generated_at=utcnow(),
        since=since,
        guild_id=guild_id,
        lessons=lessons,
        items=items,
        daily_items=daily_items,
        feedback=feedback_rows,
        reported=reported,
        unanswered=unanswered,
        thumbs_down=thumbs_down,
        ask_by_day={day: dict(counts) for day, counts in sorted(by_day.items())},
        learners=learners,
        ask_questions=len(ask_rows),
    )


async def _lessons(
    session: AsyncSession,
    course: Course,
    *,
    since: datetime | None,
    guild_id: int | None,
    answers: Sequence[AnswerRecord],
) -> list[LessonRow]:
    members = (
        select(GuildMember.learner_id).where(GuildMember.guild_id == guild_id).scalar_subquery()
        if guild_id is not None
        else None
    )

    started_q = select(SnippetView.lesson_id, func.count(distinct(SnippetView.learner_id)))
    finished_q = select(
        LessonProgress.lesson_id, func.count(distinct(LessonProgress.learner_id))
    ).where(LessonProgress.completed_at.is_not(None))
    quizzed_q = select(
        QuizAnswer.lesson_id,
        func.count(distinct(QuizAnswer.learner_id)),
        func.count(),
    )
    ratings_q = select(
        Feedback.lesson_id, func.count(), func.avg(Feedback.rating)
    ).where(Feedback.rating.between(1, 5), Feedback.ask_log_id.is_(None))
    if members is not None:
        started_q = started_q.where(SnippetView.learner_id.in_(members))
        finished_q = finished_q.where(LessonProgress.learner_id.in_(members))
        quizzed_q = quizzed_q.where(QuizAnswer.guild_id == guild_id)
        ratings_q = ratings_q.where(Feedback.guild_id == guild_id)
    if since is not None:
        started_q = started_q.where(SnippetView.first_seen_at >= since)
        finished_q = finished_q.where(LessonProgress.completed_at >= since)
        quizzed_q = quizzed_q.where(QuizAnswer.answered_at >= since)
        ratings_q = ratings_q.where(Feedback.created_at >= since)
    started = {
        row[0]: row[1]
        for row in await session.execute(started_q.group_by(SnippetView.lesson_id))
    }
    finished = {
        row[0]: row[1]
        for row in await session.execute(finished_q.group_by(LessonProgress.lesson_id))
    }
    quizzed = {
        row[0]: (row[1], row[2])
        for row in await session.execute(quizzed_q.group_by(QuizAnswer.lesson_id))
    }
    ratings = {
        row[0]: (row[1], row[2])
        for row in await session.execute(ratings_q.group_by(Feedback.lesson_id))
    }
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for answer in answers:
        question = course.questions.get(answer.question_id)
        if question is None:
            continue
        seen[question.lesson_id] += 1
        right[question.lesson_id] += 1 if answer.correct else 0
    rows = []
    for lesson in course.lessons:
        count, mean = ratings.get(lesson.id, (0, None))
        learners_quizzed, answered = quizzed.get(lesson.id, (0, 0))
        rows.append(
            LessonRow(
                lesson_id=lesson.id,
                number=lesson.number,
                title=lesson.title,
                ratings=int(count),
                mean_rating=float(mean) if mean is not None else None,
                started=int(started.get(lesson.id, 0)),
                finished=int(finished.get(lesson.id, 0)),
                quizzed=int(learners_quizzed),
                answers=int(answered),
                facility=right[lesson.id] / seen[lesson.id] if seen[lesson.id] else None,
            )
        )
    return rows


async def _feedback(
    session: AsyncSession, *, since: datetime | None, guild_id: int | None
) -> list[FeedbackRow]:
    query = select(Feedback, AskLog.question).outerjoin(AskLog, AskLog.id == Feedback.ask_log_id)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if guild_id is not None:
        query = query.where(Feedback.guild_id == guild_id)
    rows = await session.execute(query.order_by(Feedback.id))
    return [
        FeedbackRow(
            id=fb.id,
            created_at=fb.created_at,
            guild_id=fb.guild_id,
            kind=fb.kind,
            lesson_id=fb.lesson_id,
            snippet_id=fb.snippet_id,
            question_id=fb.question_id,
            rating=fb.rating,
            comment=fb.comment,
            ask_question=question,
        )
        for fb, question in rows
    ]


def _reported(course: Course, rows: Sequence[FeedbackRow]) -> list[ReportedQuestion]:
    by_question: dict[str, list[FeedbackRow]] = defaultdict(list)
    for row in rows:
        if row.kind == "question" and row.question_id:
            by_question[row.question_id].append(row)
    reported = [
        ReportedQuestion(
            question_id=qid,
            prompt=(course.questions[qid].prompt if qid in course.questions else "(removed)"),
            reports=len(group),
            comments=tuple(r.comment for r in group if r.comment),
        )
        for qid, group in by_question.items()
    ]
    return sorted(reported, key=lambda r: (-r.reports, r.question_id))
