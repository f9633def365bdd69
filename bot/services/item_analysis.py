"""Item analysis: which quiz questions work, and which ones the course authors should fix.

The figures are the ones learning platforms show instructors (Moodle, Canvas; see
``shared/notes/item-analysis.md``), adapted to a course where every learner answers a different
subset of the questions:

- **facility**: the share of learners who answered the question correctly;
- **discrimination**: the point-biserial correlation between getting this question right and the
  learner's *rest score*, their share correct on the *other* questions they answered. Learners with
  fewer than :data:`MIN_OTHER_ANSWERS` other answers have no meaningful rest score and are left out;
- **upper–lower index**: the share correct among the 27% of learners with the highest rest scores
  minus the share among the 27% with the lowest;
- for every choice: how many picked it, and its point-biserial against the rest score. A
  distractor nobody picks does no work; one that the stronger learners pick (positive
  point-biserial) usually points at a wrong key or unclear wording.

The analysis takes one answer per learner and question (by default the first, as Moodle does), so
retaking a quiz does not inflate the figures. This module is plain Python over plain records; the
SQL that feeds it lives in :func:`first_answers`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.model import Course, QuestionKind
from bot.db.models import QuizAnswer

#: Learners need at least this many answers to *other* questions to have a rest score.
MIN_OTHER_ANSWERS = 5
#: Fewer learners than this, and the figures are shown but not judged.
MIN_ANSWERS_TO_JUDGE = 30
#: Share of learners in each of the upper and lower groups.
GROUP_SHARE = 0.27


class FlagCode(StrEnum):
    """Why a question is flagged for the authors."""

    TOO_FEW = "too-few"
    CHECK_KEY = "check-key"
    REVISE = "revise"
    TOO_EASY = "too-easy"
    TOO_HARD = "too-hard"


@dataclass(frozen=True)
class Flag:
    """A flag with the reason written for a course author."""

    code: FlagCode
    reason: str


@dataclass(frozen=True)
class AnswerRecord:
    """One learner's answer to one question, as the analysis needs it."""

    learner_id: int
    question_id: str
    correct: bool
    choice_id: str | None = None


@dataclass(frozen=True)
class ChoiceStat:
    """How often one choice was picked, and by whom (stronger or weaker learners)."""

    choice_id: str
    text: str
    is_key: bool
    picked: int
    share: float  # of the learners who answered the question
    point_biserial: float | None  # against the rest score; None when it can't be computed


@dataclass(frozen=True)
class ItemStat:
    """The figures of one question."""

    question_id: str
    lesson_id: str
    prompt: str
    kind: str
    learners: int  # learners who answered
    correct: int
    facility: float | None
    discrimination: float | None  # point-biserial against the rest score
    discriminating_learners: int  # learners with a rest score (>= MIN_OTHER_ANSWERS others)
    upper_lower: float | None
    choices: tuple[ChoiceStat, ...] = ()
    flags: tuple[Flag, ...] = field(default=())

    @property
    def flag_codes(self) -> list[str]:
        """The flags' codes, for tables and filters."""
        return [flag.code.value for flag in self.flags]


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The Pearson correlation of two equally long series (``None`` if either is constant)."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _flags(
    learners: int,
    facility: float | None,
    discrimination: float | None,
    min_answers: int,
) -> tuple[Flag, ...]:
    if learners < min_answers:
        return (
            Flag(
                FlagCode.TOO_FEW,
                f"only {learners} learner(s) answered; at least {min_answers} are needed to judge",
            ),
        )
    flags: list[Flag] = []
    if discrimination is not None and discrimination < 0:
        flags.append(
            Flag(
                FlagCode.CHECK_KEY,
                f"discrimination {discrimination:.2f} is negative: stronger learners get it wrong "
                "more often than weaker ones, so the key or the wording may be wrong",
            )
        )
    elif discrimination is not None and discrimination < 0.20:
        flags.append(
            Flag(
                FlagCode.REVISE,
                f"discrimination {discrimination:.2f} is below 0.20: it barely separates learners "
                "who know the course from those who don't",
            )
        )
    if facility is not None and facility > 0.90:
        flags.append(
            Flag(FlagCode.TOO_EASY, f"{facility:.1%} answer correctly (more than 90%)")
        )
    elif facility is not None and facility < 0.30:
        flags.append(
            Flag(FlagCode.TOO_HARD, f"only {facility:.1%} answer correctly (fewer than 30%)")
        )
    return tuple(flags)


def analyse(
    course: Course,
    answers: Iterable[AnswerRecord],
    *,
    min_answers: int = MIN_ANSWERS_TO_JUDGE,
) -> list[ItemStat]:
    """Item statistics for every question that has answers, in course order.

    ``answers`` must hold at most one answer per (learner, question): see :func:`first_answers`.
    Questions no longer in the course are reported with their id as the prompt, so old answers
    are never silently dropped.
    """
    by_question: dict[str, list[AnswerRecord]] = defaultdict(list)
    per_learner: dict[int, list[bool]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
        per_learner[answer.learner_id].append(answer.correct)
    totals = {learner: (sum(marks), len(marks)) for learner, marks in per_learner.items()}

    order = {qid: i for i, qid in enumerate(course.questions)}
    stats: list[ItemStat] = []
    for question_id in sorted(by_question, key=lambda q: (order.get(q, len(order)), q)):
        rows = by_question[question_id]
        question = course.questions.get(question_id)
        learners = len(rows)
        correct = sum(1 for row in rows if row.correct)
        facility = correct / learners if learners else None

        # Rest score: share correct on the learner's *other* answers.
        scored: list[tuple[float, AnswerRecord]] = []
        for row in rows:
            right, answered = totals[row.learner_id]
            others = answered - 1
            if others < MIN_OTHER_ANSWERS:
                continue
            rest = (right - (1 if row.correct else 0)) / others
            scored.append((rest, row))
        rest_scores = [rest for rest, _ in scored]
        discrimination = pearson([1.0 if r.correct else 0.0 for _, r in scored], rest_scores)

        upper_lower = None
        group = round(GROUP_SHARE * len(scored))
        if group >= 1 and 2 * group <= len(scored):
            ranked = sorted(scored, key=lambda item: (item[0], item[1].learner_id))
            lower = ranked[:group]
            upper = ranked[-group:]
            upper_lower = (
                sum(1 for _, r in upper if r.correct) - sum(1 for _, r in lower if r.correct)
            ) / group

        choices: list[ChoiceStat] = []
        if question is not None and question.kind is not QuestionKind.NUMERIC:
            for choice in question.choices:
                picked = sum(1 for row in rows if row.choice_id == choice.id)
                choices.append(
                    ChoiceStat(
                        choice_id=choice.id,
                        text=choice.text,
                        is_key=question.is_correct_choice(choice.id),
                        picked=picked,
                        share=picked / learners if learners else 0.0,
                        point_biserial=pearson(
                            [1.0 if r.choice_id == choice.id else 0.0 for _, r in scored],
                            rest_scores,
                        ),
                    )
                )

        stats.append(
            ItemStat(
                question_id=question_id,
                lesson_id=question.lesson_id if question else question_id.split(".")[0],
                prompt=question.prompt if question else f"(removed from the course) {question_id}",
                kind=question.kind.value if question else "removed",
                learners=learners,
                correct=correct,
                facility=facility,
                discrimination=discrimination,
                discriminating_learners=len(scored),
                upper_lower=upper_lower,
                choices=tuple(choices),
                flags=_flags(learners, facility, discrimination, min_answers),
            )
        )
    return stats


async def first_answers(
    session: AsyncSession,
    *,
    guild_id: int | None = None,
    since: datetime | None = None,
    include_all: bool = False,
    source: Literal["practice", "daily"] = "practice",
) -> list[AnswerRecord]:
    """Each learner's first answer to each question from the quiz answer table.

    ``source`` picks practice answers (private quizzes and reviews) or answers to the public
    daily quiz posts, which are analysed apart: their answers can leak in chat before a learner
    clicks. ``include_all`` keeps every answer instead (a learner retaking a quiz then counts
    again); ``guild_id`` and ``since`` filter on where and when the answer was given.
    """
    kind = (
        QuizAnswer.attempt_id.is_not(None)
        if source == "practice"
        else QuizAnswer.daily_post_id.is_not(None)
    )
    query = select(
        QuizAnswer.id,
        QuizAnswer.learner_id,
        QuizAnswer.question_id,
        QuizAnswer.choice_id,
        QuizAnswer.correct,
    ).where(kind)
    if guild_id is not None:
        query = query.where(QuizAnswer.guild_id == guild_id)
    if since is not None:
        query = query.where(QuizAnswer.answered_at >= since)
    if not include_all:
        first = (
            select(func.min(QuizAnswer.id).label("id"))
            .where(kind)
            .group_by(QuizAnswer.learner_id, QuizAnswer.question_id)
        )
        if guild_id is not None:
            first = first.where(QuizAnswer.guild_id == guild_id)
        if since is not None:
            first = first.where(QuizAnswer.answered_at >= since)
        query = query.where(QuizAnswer.id.in_(first.scalar_subquery()))
    rows = await session.execute(query.order_by(QuizAnswer.id))
    return [
        AnswerRecord(
            learner_id=row.learner_id,
            question_id=row.question_id,
            correct=bool(row.correct),
            choice_id=row.choice_id,
        )
        for row in rows
    ]
