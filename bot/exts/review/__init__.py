"""Review: /review (due questions, most overdue first), "I know this", "Reset", new questions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the review cog and register its buttons (they keep working after restarts)."""
    from bot.exts.review._buttons import BUTTONS
    from bot.exts.review._cog import Review

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Review(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.review._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
