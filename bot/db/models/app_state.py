"""State the app keeps between runs: small key/value rows.

Today it holds one key, the hash of the last command tree synced to Discord, so a restart with
unchanged commands does not call Discord's (rate-limited) bulk-overwrite endpoint again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow
from bot.db.upsert import insert_ignore

KEY_MAX_CHARS = 64


class AppState(Base):
    """One named value the bot remembers across restarts."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(KEY_MAX_CHARS), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


async def read_state(session: AsyncSession, key: str) -> str | None:
    """The value stored under ``key``, or ``None``."""
    row = await session.get(AppState, key, populate_existing=True)
    return row.value if row else None


async def write_state(session: AsyncSession, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (insert or overwrite; safe when two processes race)."""
    now = utcnow()
    inserted = await insert_ignore(session, AppState, key=key, value=value, updated_at=now)
    if not inserted:
        await session.execute(
            update(AppState).where(AppState.key == key).values(value=value, updated_at=now)
        )


__all__ = ["KEY_MAX_CHARS", "AppState", "read_state", "write_state"]
