"""/review: the learner's due questions, most overdue first, privately."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn
from bot.exts.review._flow import start_review
from bot.services.quiz import MAX_QUESTIONS
from bot.services.review import DEFAULT_REVIEWS

if TYPE_CHECKING:
    from bot.bot import TutorBot


class Review(commands.Cog):
    """Spaced repetition: questions come back just before you would forget them."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="review")
    @app_commands.describe(
        questions=f"How many due questions (1 to {MAX_QUESTIONS}; {DEFAULT_REVIEWS} if left empty)"
    )
    async def review(
        self,
        interaction: discord.Interaction[Any],
        questions: app_commands.Range[int, 1, MAX_QUESTIONS] | None = None,
    ) -> None:
        """Review the questions you are about to forget, most overdue first."""
        async with Turn(interaction) as turn:
            await start_review(turn, questions)
