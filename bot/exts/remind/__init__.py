"""Review reminders: /remind on|off, the reminder DM's buttons, and its sender for the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Register the reminder DM's buttons (DMs sent before a restart keep working) and /remind."""
    from bot.exts.remind._buttons import BUTTONS
    from bot.exts.remind._cog import Remind

    bot.add_dynamic_items(*BUTTONS)
    await bot.add_cog(Remind(bot))


async def teardown(bot: TutorBot) -> None:
    """Unregister the buttons."""
    from bot.exts.remind._buttons import BUTTONS

    bot.remove_dynamic_items(*BUTTONS)
