"""Small named values the app remembers across restarts (e.g. the last synced command tree)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models.app_state import KEY_MAX_CHARS, AppState
from bot.db.upsert import upsert


class AppStateService:
    """Read and write ``app_state`` rows: one value per key, last write wins."""

    async def read(self, session: AsyncSession, key: str) -> str | None:
        """The value stored under ``key``, or ``None``."""
        row = await session.get(AppState, key, populate_existing=True)
        return row.value if row else None

    async def write(self, session: AsyncSession, key: str, value: str) -> None:
        """Store ``value`` under ``key`` in one statement (safe when two processes race)."""
        if len(key) > KEY_MAX_CHARS:
            raise ValueError(f"app_state keys have at most {KEY_MAX_CHARS} characters")
        await upsert(
            session,
            AppState,
            {"key": key, "value": value, "updated_at": utcnow()},
            update=("value", "updated_at"),
        )
