"""App state: named values kept across restarts, one row per key, last write wins."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.models import AppState


async def test_a_value_is_written_overwritten_and_read_back(app: AppContext) -> None:
    state = app.services.state
    async with app.db.sessions.begin() as session:
        assert await state.read(session, "discord.commands_hash") is None
        await state.write(session, "discord.commands_hash", "first")
    async with app.db.sessions.begin() as session:
        await state.write(session, "discord.commands_hash", "second")
        await state.write(session, "other", "kept apart")
    async with app.db.sessions() as session:
        assert await state.read(session, "discord.commands_hash") == "second"
        assert await state.read(session, "other") == "kept apart"
        assert await session.scalar(select(func.count()).select_from(AppState)) == 2
