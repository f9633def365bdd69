"""Progress: /progress (with a chart) and /leaderboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the progress cog."""
    from bot.exts.progress._cog import Progress

    await bot.add_cog(Progress(bot))
