"""Settings: /settings timezone."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the settings cog."""
    from bot.exts.settings._cog import LearnerSettings

    await bot.add_cog(LearnerSettings(bot))
