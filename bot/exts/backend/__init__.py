"""Backend: the one error handler for slash commands, and a polite answer to stale buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the backend cog."""
    from bot.exts.backend._cog import Backend

    await bot.add_cog(Backend(bot))
