"""Lessons: /course and /lesson, and the Previous / Next / Mark done buttons of a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the lessons cog and register its buttons (old pages keep working after restarts)."""
    from bot.exts.lessons._buttons import BUTTONS
    from bot.exts.lessons._cog import Lessons

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Lessons(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.lessons._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
