"""Spaced repetition (issue 11): memory cards, their review logs, and reminder settings.

A :class:`ReviewCard` is one learner's FSRS memory state for one question. It is created by
the learner's first answer to that question and updated by their first answer to it in each of
their local days. ``last_review`` is the compare-and-set column: an update names the value it
read, so two sessions (or a double click) that read the same card update it once.

Every update writes a :class:`ReviewLog` in the same transaction. :class:`Reminder` holds a
learner's opt-in review reminder (its once-a-day DM is claimed in ``job_claim``, kind
``reminder``).
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, ContentId, UTCDateTime, utcnow

#: Where a review came from: a practice /quiz, a daily quiz post, or /review.
REVIEW_SOURCES = ("quiz", "daily", "review")


class ReviewCard(Base):
    """A learner's memory of one question: the FSRS state and when to review it next."""

    __tablename__ = "review_card"
    __table_args__ = (
        CheckConstraint("state BETWEEN 1 AND 3", name="state"),
        Index("ix_review_card_learner_due", "learner_id", "due"),
    )

    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(ContentId, primary_key=True)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    # NULL until the first review, and again after a reset (FSRS then starts afresh).
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    state: Mapped[int] = mapped_column(SmallInteger)  # fsrs.State: 1 learning, 2 review, 3 relearning
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the compare-and-set column
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewLog(Base):
    """One update of a card: the rating, when, the learner's local date, and the due dates."""

    __tablename__ = "review_log"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 4", name="rating"),
        CheckConstraint("source IN ('quiz', 'daily', 'review')", name="source"),
        Index("ix_review_log_learner_reviewed", "learner_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE")
    )
    question_id: Mapped[str] = mapped_column(ContentId)
    rating: Mapped[int] = mapped_column(SmallInteger)  # fsrs.Rating: 1 again, 3 good
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)  # the learner's day of the review
    due_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL: a new card
    due_after: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(8))
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # NULL in DMs and the console


class Reminder(Base):
    """A learner's opt-in daily reminder to review, at their local time. No row: off."""

    __tablename__ = "reminder"
    __table_args__ = (CheckConstraint("min_due >= 1", name="min_due_positive"),)

    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    local_time: Mapped[time] = mapped_column(Time)  # HH:MM in the learner's time zone
    min_due: Mapped[int] = mapped_column(Integer)  # remind only when at least this many are due
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resent_on: Mapped[date | None] = mapped_column(Date)  # local date of the one snoozed re-send
    off_reason: Mapped[str | None] = mapped_column(String(32))  # e.g. 'dm_closed'
    # Tell the learner (e.g. that reminders were switched off) the next time they use the bot.
    notice_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


__all__ = ["REVIEW_SOURCES", "Reminder", "ReviewCard", "ReviewLog"]
