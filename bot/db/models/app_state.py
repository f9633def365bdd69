"""State the app keeps between runs: small key/value rows.

It holds the hash of the last command tree synced to Discord (so a restart with unchanged
commands does not call Discord's rate-limited bulk-overwrite endpoint again), the random key of
the learner HMAC in the logs, and each running bot process's heartbeat
(``heartbeat:<host>:<pid>``, written every 15 s; ``tutorbot db restore`` reads it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

KEY_MAX_CHARS = 64
#: Keys of running processes' heartbeats start with this (:mod:`bot.health`).
HEARTBEAT_KEY_PREFIX = "heartbeat:"


class AppState(Base):
    """One named value the bot remembers across restarts."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(KEY_MAX_CHARS), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


__all__ = ["HEARTBEAT_KEY_PREFIX", "KEY_MAX_CHARS", "AppState"]
