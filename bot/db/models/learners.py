"""Learners and the guilds they were seen in (the leaderboard lists a guild's members).

Discord ids are 64-bit and written by Discord, so they are the keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, ContentId, UTCDateTime, utcnow


class Learner(Base):
    """A person taking the course, keyed by their Discord user id."""

    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    current_lesson_id: Mapped[str | None] = mapped_column(ContentId)
    # A stand-in for a learner who used /forget-me: keeps their answers in the statistics
    # without naming anyone, and is never listed on a leaderboard (migration 0005).
    pseudonym: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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


__all__ = ["Guild", "GuildMember", "Learner"]
