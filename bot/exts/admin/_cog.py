"""``/admin reload``: the bot owner reloads the course from the lessons folder, live."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowedError
from bot.exts._interactions import Turn, send, within_deadline
from bot.exts.admin import _render as render
from bot.services.reload import ReloadWatcher

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger(__name__)

NOT_THE_OWNER = "Only the bot's owner can reload the course."


class Admin(commands.Cog):
    """Operator commands, for the bot's owner, in the development guild only."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.group = app_commands.Group(
            name="admin", description="Operator commands for the bot's owner.",
            guild_only=True,
        )
        self.group.command(name="reload", description="Reload the course from the lessons "
                           "folder (checked first; the old course stays if it has problems).")(
            self.reload
        )
        app = bot.app
        guild_id = app.settings.discord.dev_guild_id
        if guild_id is not None:
            bot.tree.add_command(self.group, guild=discord.Object(id=guild_id))
        else:
            log.info("/admin is not registered: set discord.dev_guild_id to use it "
                     "(`tutorbot lessons reload` works without it)")
        self._guild_id = guild_id

    async def cog_load(self) -> None:
        """Follow reloads published by other processes: a worker of the app."""
        app = self.bot.app
        app.register_worker(ReloadWatcher(app.reloads, app.settings.reload.poll_seconds))

    async def cog_unload(self) -> None:
        """Remove ``/admin`` from the tree."""
        if self._guild_id is not None:
            self.bot.tree.remove_command("admin", guild=discord.Object(id=self._guild_id))

    async def reload(self, interaction: discord.Interaction[Any]) -> None:
        """Reload the course (checked first; the old course stays if it has problems)."""
        async with Turn(interaction) as turn:
            if not await self.bot.is_owner(interaction.user):
                raise NotAllowedError(NOT_THE_OWNER)
            outcome = await within_deadline(
                interaction, turn.app.reloads.reload(), ephemeral=True
            )
            await send(interaction, embeds=[render.reload_outcome(outcome)], ephemeral=True)
