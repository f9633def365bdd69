"""Maintainers: /maintain feedback list|show|resolve, and /maintain questions (item analysis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the maintainers' cog and register its page buttons."""
    from bot.exts.maintain._buttons import BUTTONS
    from bot.exts.maintain._cog import Maintain

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Maintain(bot))
