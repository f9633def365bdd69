"""Quiz: /quiz, the answer buttons, and the modal for numeric answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the quiz cog and register its buttons (old quizzes keep working after restarts)."""
    from bot.exts.quiz._buttons import BUTTONS
    from bot.exts.quiz._cog import Quiz

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Quiz(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.quiz._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
