"""Tables of moderators' daily quizzes (issue 9): guild settings, schedules, posts, answers, claims.

The SQL rows are the truth; the in-memory job runner (:mod:`bot.jobs`) only decides *when* to
look at them. Posting exactly once rests on two unique keys:

- ``daily_post`` is the claim: unique on ``(schedule_id, local_date)``. Whoever inserts it posts;
  a second fire on the same local day (a DST fall-back, an edited time, a restart, a second
  process) finds the row and does nothing.
- ``daily_answer`` is unique on ``(post_id, learner_id)``: each member answers a post once.

``job_claim`` is the same "exactly once" claim for later jobs (a weekly digest per guild and ISO
week, a reminder per learner and local date).
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

#: Auto-incrementing 64-bit keys (SQLite only auto-increments an INTEGER PRIMARY KEY).
_BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
_ContentId = String(48)

#: Every weekday, Monday = bit 0 ... Sunday = bit 6.
ALL_DAYS = 0b1111111
#: A day has 1,440 minutes; a post closes after at most a week.
DEFAULT_CLOSE_AFTER_MIN = 23 * 60
MAX_CLOSE_AFTER_MIN = 7 * 24 * 60
#: Discord's limit on a message nonce.
NONCE_MAX_CHARS = 25


class GuildConfig(Base):
    """A guild's settings, set by its moderators with /config. No row: every default."""

    __tablename__ = "guild_config"
    __table_args__ = (
        CheckConstraint(
            "daily_token_budget IS NULL OR daily_token_budget >= 0", name="budget_not_negative"
        ),
    )

    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )
    moderator_role_id: Mapped[int | None] = mapped_column(BigInteger)
    maintainer_role_id: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64), default="Etc/UTC")
    notice_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    # NULL: the operator's limit (ask.guild_daily_token_budget). A guild may only lower it.
    daily_token_budget: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GuildAskChannel(Base):
    """A channel where /ask may be used. A guild without rows allows /ask everywhere."""

    __tablename__ = "guild_ask_channel"

    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )
    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Schedule(Base):
    """A daily quiz: post a question in a channel at a local time on some weekdays."""

    __tablename__ = "schedule"
    __table_args__ = (
        CheckConstraint("source IN ('random', 'lesson', 'review')", name="source"),
        CheckConstraint("reveal IN ('instant', 'at_close')", name="reveal"),
        CheckConstraint("days BETWEEN 1 AND 127", name="days"),
        CheckConstraint(
            f"close_after BETWEEN 1 AND {MAX_CLOSE_AFTER_MIN}", name="close_after"
        ),
        CheckConstraint("source <> 'lesson' OR lesson_id IS NOT NULL", name="lesson_given"),
    )

    id: Mapped[int] = mapped_column(_BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[int] = mapped_column(BigInteger)  # a Discord user id
    local_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(SmallInteger, default=ALL_DAYS)  # bit 0 = Monday
    source: Mapped[str] = mapped_column(String(8), default="random")
    lesson_id: Mapped[str | None] = mapped_column(_ContentId)
    close_after: Mapped[int] = mapped_column(Integer, default=DEFAULT_CLOSE_AFTER_MIN)  # minutes
    reveal: Mapped[str] = mapped_column(String(8), default="at_close")
    ping_role_id: Mapped[int | None] = mapped_column(BigInteger)
    use_thread: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    skip_date: Mapped[date | None] = mapped_column(Date)  # the next post's local date, skipped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DailyPost(Base):
    """One posting of a schedule: the claim first, then the message, then its close.

    ``message_id`` is NULL between the claim and Discord's answer: the leader retries such rows
    (same nonce within minutes, later only after looking for the message in the channel).
    Schedule settings that shape the post (channel, reveal, closing time) are copied here at
    claim time, so editing or removing a schedule never changes a post already made.
    """

    __tablename__ = "daily_post"
    __table_args__ = (
        UniqueConstraint("schedule_id", "local_date"),
        UniqueConstraint("nonce"),
        CheckConstraint("reveal IN ('instant', 'at_close')", name="reveal"),
        # The closer's query: open posts by closing time.
        Index("ix_daily_post_open", "closed_at", "closes_at"),
        # Question choice: what was posted in a channel.
        Index("ix_daily_post_channel", "channel_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(_BigIntPK, primary_key=True, autoincrement=True)
    # NULL once the schedule is removed; the post still closes and still counts.
    schedule_id: Mapped[int | None] = mapped_column(
        _BigIntPK, ForeignKey("schedule.id", ondelete="SET NULL")
    )
    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), index=True
    )
    local_date: Mapped[date] = mapped_column(Date)
    question_id: Mapped[str] = mapped_column(_ContentId)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    reveal: Mapped[str] = mapped_column(String(8))
    ping_role_id: Mapped[int | None] = mapped_column(BigInteger)
    use_thread: Mapped[bool] = mapped_column(Boolean, default=False)
    nonce: Mapped[str] = mapped_column(String(NONCE_MAX_CHARS))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the fire time it was claimed for
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_message_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Set when Discord answered 404/403 or the grace window passed: never retried again.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DailyAnswer(Base):
    """A member's one answer to a posted daily quiz."""

    __tablename__ = "daily_answer"

    post_id: Mapped[int] = mapped_column(
        _BigIntPK, ForeignKey("daily_post.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )
    choice_id: Mapped[str] = mapped_column(String(16))
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobClaim(Base):
    """A job done exactly once: the first process to insert ``(kind, key)`` runs it."""

    __tablename__ = "job_claim"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = [
    "ALL_DAYS",
    "DEFAULT_CLOSE_AFTER_MIN",
    "MAX_CLOSE_AFTER_MIN",
    "NONCE_MAX_CHARS",
    "DailyAnswer",
    "DailyPost",
    "GuildAskChannel",
    "GuildConfig",
    "JobClaim",
    "Schedule",
]
