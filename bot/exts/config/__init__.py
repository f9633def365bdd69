"""/config: a server's settings, for its moderators."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the /config commands."""
    from bot.exts.config._cog import GuildConfigCog

    await bot.add_cog(GuildConfigCog(bot))
