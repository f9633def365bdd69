"""Ask: /ask, answered by the tutor in public with sources, and the 👍/👎 under each answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the ask cog (which starts loading the tutor) and register the rating buttons."""
    from bot.exts.ask._buttons import BUTTONS
    from bot.exts.ask._cog import Ask

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Ask(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.ask._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
