"""Quiz attempts and their answers (exactly one answer per question of an attempt).

Question and choice ids are the author-written ids from ``lessons/``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, ContentId, UTCDateTime, utcnow


class QuizAttempt(Base):
    """One run through a set of questions. The order and shuffles are fixed by ``seed``.

    ``kind`` is ``review`` for the due questions /review serves (migration 0007), ``quiz``
    otherwise; answers to a review attempt update memory cards with source ``review``.
    """

    __tablename__ = "quiz_attempt"
    __table_args__ = (CheckConstraint("kind IN ('quiz', 'review')", name="kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), index=True
    )
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # NULL in DMs and the console
    lesson_id: Mapped[str | None] = mapped_column(ContentId)  # NULL: mixed questions
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(8), default="quiz", server_default="quiz")


class QuizAnswer(Base):
    """A learner's answer to one question of an attempt: exactly one per question.

    A daily quiz answer (migration 0004) is recorded here too, with ``daily_post_id`` instead of
    an attempt, in the same commit as its ``daily_answer`` row: points, streaks, the leaderboard
    and /progress then count it with no second code path.
    """

    __tablename__ = "quiz_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        CheckConstraint("(choice_id IS NOT NULL) OR (value IS NOT NULL)", name="choice_or_value"),
        CheckConstraint(
            "(attempt_id IS NOT NULL) OR (daily_post_id IS NOT NULL)", name="attempt_or_post"
        ),
        Index("ix_quiz_answer_guild_correct", "guild_id", "correct", "learner_id"),
        Index("ix_quiz_answer_learner_answered", "learner_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("quiz_attempt.id", ondelete="CASCADE")
    )
    daily_post_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("daily_post.id", ondelete="CASCADE")
    )
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE")
    )
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    lesson_id: Mapped[str] = mapped_column(ContentId)
    question_id: Mapped[str] = mapped_column(ContentId)
    choice_id: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["QuizAnswer", "QuizAttempt"]
