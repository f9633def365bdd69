"""Tables of the course engine: learners, guilds, reading progress, quiz attempts, feedback.

Content ids (lesson, snippet, question, choice) are the author-written ids from ``lessons/``,
stored as text: they stay valid when the course text changes. Discord ids are 64-bit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

#: Auto-incrementing 64-bit keys (SQLite only auto-increments an INTEGER PRIMARY KEY).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
ContentId = String(48)


class Learner(Base):
    """A person taking the course, keyed by their Discord user id."""

    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    current_lesson_id: Mapped[str | None] = mapped_column(ContentId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Guild(Base):
    """A Discord server the bot has seen a learner in."""

    __tablename__ = "guild"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuildMember(Base):
    """A learner seen in a guild (the leaderboard lists members)."""

    __tablename__ = "guild_member"

    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True
    )
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonProgress(Base):
    """Where a learner is in one lesson, and whether they finished it."""

    __tablename__ = "lesson_progress"

    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[str] = mapped_column(ContentId, primary_key=True)
    last_snippet_id: Mapped[str | None] = mapped_column(ContentId)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SnippetView(Base):
    """A snippet a learner has read (first time only)."""

    __tablename__ = "snippet_view"

    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    snippet_id: Mapped[str] = mapped_column(ContentId, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(ContentId)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(Base):
    """One run through a set of questions. The order and shuffles are fixed by ``seed``."""

    __tablename__ = "quiz_attempt"

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


class QuizAnswer(Base):
    """A learner's answer to one question of an attempt: exactly one per question."""

    __tablename__ = "quiz_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        CheckConstraint("(choice_id IS NOT NULL) OR (value IS NOT NULL)", name="choice_or_value"),
        Index("ix_quiz_answer_guild_correct", "guild_id", "correct", "learner_id"),
        Index("ix_quiz_answer_learner_answered", "learner_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("quiz_attempt.id", ondelete="CASCADE")
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


class Feedback(Base):
    """A rating and/or comment, with the context it was given in."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("(rating IS NOT NULL) OR (comment IS NOT NULL)", name="rating_or_comment"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), index=True
    )
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # -1 / +1, or 1..5
    comment: Mapped[str | None] = mapped_column(Text)
    lesson_id: Mapped[str | None] = mapped_column(ContentId, index=True)
    snippet_id: Mapped[str | None] = mapped_column(ContentId)
    question_id: Mapped[str | None] = mapped_column(ContentId, index=True)
    quiz_answer_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("quiz_answer.id", ondelete="SET NULL")
    )
    # Added by migration 0003 with the /ask log: 👍/👎 on an answer points at the logged answer.
    ask_log_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("ask_log.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__: list[Any] = [
    "Feedback",
    "Guild",
    "GuildMember",
    "Learner",
    "LessonProgress",
    "QuizAnswer",
    "QuizAttempt",
    "SnippetView",
]
