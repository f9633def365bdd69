"""Wires the error handler into the command tree and answers buttons nothing handles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.exts._components import STALE_BUTTON
from bot.exts._errors import report_error
from bot.exts._interactions import send
from bot.ui import custom_ids as ids
from bot.ui.embeds import error_message

if TYPE_CHECKING:
    from bot.bot import TutorBot


class Backend(commands.Cog):
    """Error handling shared by every feature."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self._previous_on_error = bot.tree.on_error
        bot.tree.error(report_error)

    async def cog_unload(self) -> None:
        """Give the command tree its previous error handler back."""
        self.bot.tree.on_error = self._previous_on_error  # type: ignore[method-assign]

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer a click on one of our buttons that no handler takes (an older scheme).

        Without this, Discord would show the learner "This interaction failed".
        """
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        data: Any = interaction.data or {}
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not ids.is_ours(custom_id):
            return
        if ids.has_handler(custom_id):
            return
        await send(interaction, content=error_message(STALE_BUTTON), ephemeral=True)
