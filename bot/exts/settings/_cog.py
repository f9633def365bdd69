"""/settings timezone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn, send
from bot.services.learners import local_now, search_timezones
from bot.ui.autocomplete import text_choices
from bot.ui.embeds import notice

if TYPE_CHECKING:
    from bot.bot import TutorBot


class LearnerSettings(commands.Cog):
    """A learner's own settings."""

    settings = app_commands.Group(
        name="settings", description="Your settings, such as your time zone"
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @settings.command(name="timezone")
    @app_commands.describe(zone="Your time zone, e.g. Europe/Berlin (start typing for suggestions)")
    async def timezone(
        self, interaction: discord.Interaction[Any], zone: app_commands.Range[str, 1, 100]
    ) -> None:
        """Set your time zone: streaks and reminders count days in it."""
        async with Turn(interaction) as turn:
            saved = await turn.run(
                lambda unit: unit.services.learners.set_timezone(
                    unit.session, unit.actor.user_id, zone
                ),
                ephemeral=True,
            )
            now = local_now(saved)
            await send(
                interaction,
                content=notice(
                    f"\U0001f570\ufe0f Your time zone is now **{saved}** (it is {now:%H:%M} "
                    "there). Streaks and reminders count your days in it."
                ),
                ephemeral=True,
            )

    @timezone.autocomplete("zone")
    async def _zones(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return text_choices(search_timezones(current[:64]))
