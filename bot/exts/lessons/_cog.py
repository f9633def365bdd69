"""/course and /lesson."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Actor, ensure_learner, send, within_deadline
from bot.exts.lessons._pages import load_overview, overview_message, send_page
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
        statuses = await load_overview(interaction, self.bot.app, update=False)
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
        app = self.bot.app
        actor = Actor.of(interaction)
        # Resolve the name before touching the database: an unknown name writes nothing.
        lesson = app.services.course.resolve_lesson(name) if name is not None else None

        async def work() -> Page:
            async with app.db.sessions.begin() as session:
                await ensure_learner(session, app, actor)
                if lesson is None:
                    return await app.services.course.resume(session, actor.user_id)
                return await app.services.course.open_lesson(session, actor.user_id, lesson.id)

        page = await within_deadline(interaction, work())
        await send_page(interaction, page, actor.user_id, ephemeral=False)

    @lesson.autocomplete("name")
    async def _lesson_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return lesson_choices(self.bot.app.course.search_lessons(current))
