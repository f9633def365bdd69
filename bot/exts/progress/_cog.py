"""/progress and /leaderboard."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInputError, NotFoundError
from bot.exts._interactions import Turn, send
from bot.exts.progress import _render as render
from bot.runtime import Unit
from bot.services.progress import Period, ProgressSummary
from bot.ui import embeds
from bot.ui.chart import FILENAME, ChartRow, render_progress_chart
from bot.ui.text import safe_name

if TYPE_CHECKING:
    from bot.bot import TutorBot

LEADERBOARD_SIZE = 10
PER_SERVER = (
    "The leaderboard is per server: it ranks the learners of one server. Run /leaderboard in "
    "a server we share; here, /progress shows how you are doing."
)


def chart_rows(summary: ProgressSummary) -> list[ChartRow]:
    """The chart's bars: reading and quiz accuracy of each lesson."""
    return [
        ChartRow(
            label=f"{view.lesson.number}. {view.lesson.title}",
            read_share=view.read / len(view.lesson.snippets) if view.lesson.snippets else 0.0,
            accuracy=view.accuracy,
        )
        for view in summary.lessons
    ]


class Progress(commands.Cog):
    """How learners are doing."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="progress")
    @app_commands.describe(member="Whose progress to show (yours if left empty)")
    async def progress(
        self, interaction: discord.Interaction[Any], member: discord.User | None = None
    ) -> None:
        """Your progress: lessons, quiz accuracy, streak, rank and reviews due, with a chart."""
        target = member or interaction.user
        if target.bot:
            raise InvalidInputError("Bots don't take the course, so they have no progress.")
        async with Turn(interaction) as turn:
            # The chart takes a moment to draw: defer now, well inside Discord's 3 seconds.
            await interaction.response.defer(ephemeral=True, thinking=True)
            about_self = target.id == turn.actor.user_id

            async def load(unit: Unit) -> ProgressSummary:
                if not about_self and await unit.services.learners.get(
                    unit.session, target.id
                ) is None:
                    raise NotFoundError(
                        f"{safe_name(target.display_name)} has not started the course yet."
                    )
                return await unit.services.progress.summary(
                    unit.session, target.id, guild_id=unit.actor.guild_id
                )

            summary = await turn.run(load, ensure_learner=about_self)
            name = target.display_name
            png = await asyncio.to_thread(
                render_progress_chart, f"{name}: reading and quiz accuracy", chart_rows(summary),
                render.due_per_day(summary.reviews),
            )
            await send(
                interaction,
                embeds=[render.progress(summary, name=name, with_chart=True)],
                file=discord.File(io.BytesIO(png), filename=FILENAME),
                ephemeral=True,
            )

    @app_commands.command(name="leaderboard")
    @app_commands.describe(period="This week, or all time (the default)")
    @app_commands.choices(
        period=[
            app_commands.Choice(name="This week", value=Period.WEEK.value),
            app_commands.Choice(name="All time", value=Period.ALL.value),
        ]
    )
    async def leaderboard(
        self, interaction: discord.Interaction[Any], period: str = Period.ALL.value
    ) -> None:
        """This server's top learners, this week or of all time."""
        async with Turn(interaction) as turn:
            if interaction.guild_id is None:
                await send(interaction, content=embeds.notice(PER_SERVER), ephemeral=True)
                return
            try:
                chosen = Period(period)
            except ValueError:
                raise InvalidInputError("Choose `week` or `all` for the period.") from None
            since = turn.services.progress.week_start() if chosen is Period.WEEK else None
            entries = await turn.run(
                lambda unit: unit.services.progress.leaderboard(
                    unit.session, unit.actor.guild_id, since=since, limit=LEADERBOARD_SIZE
                )
            )
            await send(
                interaction, embeds=[render.leaderboard(entries, chosen, turn.actor.guild_name)]
            )
