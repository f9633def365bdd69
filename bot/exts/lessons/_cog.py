"""/course and /lesson."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn, send
from bot.exts.lessons._pages import load_overview, overview_message, send_page
from bot.runtime import Unit
from bot.services.course import Page
from bot.ui.autocomplete import lesson_choices

if TYPE_CHECKING:
    from bot.bot import TutorBot


class Lessons(commands.Cog):
    """Reading the course."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="course")
    async def course(self, interaction: discord.Interaction[Any]) -> None:
        """Every lesson of the course, with your progress marks."""
        async with Turn(interaction) as turn:
            statuses = await load_overview(turn, update=False)
            embed, view = overview_message(statuses, interaction.user.id, 0)
            await send(interaction, embeds=[embed], view=view, ephemeral=True)

    @app_commands.command(name="lesson")
    @app_commands.describe(
        name="A lesson's title or number; leave empty to continue where you left off"
    )
    async def lesson(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Read the course: continue where you left off, or open a lesson."""
        async with Turn(interaction) as turn:
            # Resolve the name before touching the database: an unknown name writes nothing.
            lesson = turn.services.course.resolve_lesson(name) if name is not None else None

            async def open_page(unit: Unit) -> Page:
                if lesson is None:
                    return await unit.services.course.resume(unit.session, unit.actor.user_id)
                return await unit.services.course.open_lesson(
                    unit.session, unit.actor.user_id, lesson.id
                )

            page = await turn.run(open_page)
            await send_page(turn, page, ephemeral=False)

    @lesson.autocomplete("name")
    async def _lesson_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return lesson_choices(self.bot.app.course.search_lessons(current))
