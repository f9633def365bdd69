"""/remind on [time] | off: a learner's opt-in daily review reminder (private replies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.base import utcnow
from bot.exts._interactions import Turn, send
from bot.exts.remind import _render as render

if TYPE_CHECKING:
    from bot.bot import TutorBot


class Remind(commands.Cog):
    """Review reminders by DM."""

    remind = app_commands.Group(
        name="remind", description="A daily DM when you have questions due for review"
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @remind.command(name="on")
    @app_commands.describe(
        time="Local time of day, e.g. 18:30 or 7pm (default 18:00, or your last time)"
    )
    async def on(
        self,
        interaction: discord.Interaction[Any],
        time: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        """Get a DM at your local time on days when reviews are due."""
        async with Turn(interaction) as turn:
            view = await turn.run(
                lambda unit: unit.services.reminders.turn_on(
                    unit.session, unit.actor.user_id, time),
                ephemeral=True,
            )
            await send(interaction, content=render.turned_on(view, utcnow()), ephemeral=True)

    @remind.command(name="off")
    async def off(self, interaction: discord.Interaction[Any]) -> None:
        """Stop the review reminder DMs."""
        async with Turn(interaction) as turn:
            was_on = await turn.run(
                lambda unit: unit.services.reminders.turn_off(unit.session, unit.actor.user_id),
                ephemeral=True,
            )
            await send(interaction, content=render.OFF if was_on else render.WERE_OFF,
                       ephemeral=True)
