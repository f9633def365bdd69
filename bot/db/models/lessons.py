"""Reading progress: where a learner is in each lesson, and which snippets they have read.

Lesson and snippet ids are the author-written ids from ``lessons/``: they stay valid when the
course text changes. :class:`LessonPost` records whose each posted lesson page is: a button's
custom id is input (a client can send any text), so a page's owner comes from that row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, ContentId, UTCDateTime, utcnow


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




class LessonPost(Base):
    """A posted lesson page (a Discord message id) and the learner it belongs to."""

    __tablename__ = "lesson_post"

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["LessonPost", "LessonProgress", "SnippetView"]
