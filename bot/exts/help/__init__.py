"""Help: /help, what the bot can do for each role."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the help cog."""
    from bot.exts.help._cog import Help

    await bot.add_cog(Help(bot))
