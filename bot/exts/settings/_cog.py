"""/settings timezone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Actor, ensure_learner, send, within_deadline
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
        app = self.bot.app
        actor = Actor.of(interaction)

        async def work() -> str:
            async with app.db.sessions.begin() as session:
                await ensure_learner(session, app, actor)
                return await app.services.learners.set_timezone(session, actor.user_id, zone)

        saved = await within_deadline(interaction, work(), ephemeral=True)
        now = local_now(saved)
        await send(
            interaction,
            content=notice(
                f"\U0001f570\ufe0f Your time zone is now **{saved}** (it is {now:%H:%M} there). "
                "Streaks and reminders count your days in it."
            ),
            ephemeral=True,
        )

    @timezone.autocomplete("zone")
    async def _zones(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return text_choices(search_timezones(current[:64]))
