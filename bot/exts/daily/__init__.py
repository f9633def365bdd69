"""Daily quizzes: the posted question's buttons, the publisher, and the job runner's wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Register the answer buttons (posts made before a restart keep working), start jobs."""
    from bot.exts.daily._buttons import BUTTONS
    from bot.exts.daily._cog import Daily

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Daily(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.daily._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
