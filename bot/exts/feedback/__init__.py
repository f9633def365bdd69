"""Feedback from learners: /feedback, "Report this question", "Tell us why", /forget-me."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the feedback cog and register its buttons."""
    from bot.exts.feedback._buttons import BUTTONS
    from bot.exts.feedback._cog import Feedback

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Feedback(bot))
