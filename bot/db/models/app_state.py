"""State the app keeps between runs: small key/value rows.

Today it holds one key, the hash of the last command tree synced to Discord, so a restart with
unchanged commands does not call Discord's (rate-limited) bulk-overwrite endpoint again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

KEY_MAX_CHARS = 64


class AppState(Base):
    """One named value the bot remembers across restarts."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(KEY_MAX_CHARS), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


__all__ = ["KEY_MAX_CHARS", "AppState"]
