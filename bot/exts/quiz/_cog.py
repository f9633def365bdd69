"""/quiz and the submission of numeric answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInputError
from bot.exts._components import require_owner
from bot.exts._errors import report_error
from bot.exts._interactions import Turn
from bot.exts.quiz._flow import NOT_YOUR_QUIZ, answer, start_quiz
from bot.services.quiz import DEFAULT_QUESTIONS, MAX_QUESTIONS, parse_number
from bot.ui import custom_ids as ids
from bot.ui.autocomplete import lesson_choices
from bot.ui.views import submitted_value

if TYPE_CHECKING:
    from bot.bot import TutorBot


class Quiz(commands.Cog):
    """Private quizzes with instant explanations."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="quiz")
    @app_commands.describe(
        lesson="A lesson's title or number; leave empty for questions from the whole course",
        questions=f"How many questions (1 to {MAX_QUESTIONS}; {DEFAULT_QUESTIONS} if left empty)",
    )
    async def quiz(
        self,
        interaction: discord.Interaction[Any],
        lesson: app_commands.Range[str, 1, 100] | None = None,
        questions: app_commands.Range[int, 1, MAX_QUESTIONS] | None = None,
    ) -> None:
        """Take a private quiz on one lesson or on the whole course."""
        async with Turn(interaction) as turn:
            lesson_id = turn.services.course.resolve_lesson(lesson).id if lesson else None
            await start_quiz(turn, lesson_id, questions)

    @quiz.autocomplete("lesson")
    async def _lesson_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        lessons = [item for item in self.bot.app.course.search_lessons(current) if item.questions]
        return lesson_choices(lessons)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Record a numeric answer typed into the modal (matched on its custom id alone)."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        key = ids.decode(str(data.get("custom_id", "")))
        if not isinstance(key, ids.NumberAnswer):
            return
        try:
            require_owner(interaction, key.learner_id, NOT_YOUR_QUIZ)
            text = submitted_value(data)
            if text is None:
                raise InvalidInputError("Type a number in the box, e.g. `54` or `0.5`.")
            value = parse_number(text)
            async with Turn(interaction) as turn:
                await answer(turn, key.attempt_id, key.question_id, value=value)
        except Exception as exc:
            await report_error(interaction, exc)
