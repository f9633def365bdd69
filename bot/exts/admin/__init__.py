"""Operator commands for the bot's owner: ``/admin reload`` (live course reloads).

The course is shared by every guild, so ``/admin`` exists only in the development guild
(``discord.dev_guild_id``); without one it is not registered at all and the operator uses
``tutorbot lessons reload``. The extension also registers the worker that follows reloads
published by other processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import TutorBot


async def setup(bot: TutorBot) -> None:
    """Add ``/admin`` to the development guild and follow other processes' reloads."""
    from bot.exts.admin._cog import Admin

    await bot.add_cog(Admin(bot))
