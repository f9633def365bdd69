"""Lesson pages the bot posted, and whose they are.

A lesson page is a public message whose Previous / Next / Mark done buttons edit it. The custom
id of a button is input (a client can send any text), so the owner of a page comes from this
row, written when the page is posted, never from the id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class LessonPost(Base):
    """A posted lesson page (a Discord message id) and the learner it belongs to."""

    __tablename__ = "lesson_post"

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    learner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("learner.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["LessonPost"]
