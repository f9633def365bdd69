"""Feedback: a rating and/or a comment, with the lesson, question or answer it is about.

Maintainers review it (kind, reason, status and resolution: migration 0005).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigIntPK, ContentId, UTCDateTime, utcnow


class Feedback(Base):
    """A rating and/or comment, with the context it was given in."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("(rating IS NOT NULL) OR (comment IS NOT NULL)", name="rating_or_comment"),
        CheckConstraint("kind IN ('lesson', 'ask', 'question')", name="kind"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        Index("ix_feedback_guild_status_created", "guild_id", "status", "created_at"),
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
    # Added by migration 0005 for the maintainers' review.
    kind: Mapped[str] = mapped_column(String(16), default="lesson", server_default="lesson")
    reason: Mapped[str | None] = mapped_column(String(16))  # question reports: why
    status: Mapped[str] = mapped_column(String(12), default="open", server_default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    reporter_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["Feedback"]
