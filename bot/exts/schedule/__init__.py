"""/schedule: moderators' daily quizzes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Load the /schedule commands."""
    from bot.exts.schedule._cog import Schedules

    await bot.add_cog(Schedules(bot))
