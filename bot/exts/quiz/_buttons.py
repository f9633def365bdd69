"""The buttons of a quiz: answer a choice, open the number modal, start a quiz."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click, require_owner
from bot.exts._interactions import Turn
from bot.exts.quiz import _render as render
from bot.exts.quiz._flow import NOT_YOUR_QUIZ, answer, show_next_instead, start_quiz
from bot.ui import custom_ids as ids


class AnswerButton(
    Click[ids.Answer],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.Answer.pattern,
):
    """A choice of a quiz question: records it once, then shows the verdict."""

    key_type = ids.Answer

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.Answer) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_QUIZ)
        async with Turn(interaction) as turn:
            await answer(turn, key.attempt_id, key.question_id, choice_id=key.choice_id)


class AskNumberButton(
    Click[ids.AskNumber],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.AskNumber.pattern,
):
    """Answer a numeric question: opens a modal to type the number in."""

    key_type = ids.AskNumber

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.AskNumber) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_QUIZ)
        async with Turn(interaction) as turn:
            question = turn.course.questions.get(key.question_id)
            if question is None:  # removed by a live reload since it was shown
                await show_next_instead(turn, key.attempt_id)
                return
            modal_key = ids.NumberAnswer(key.learner_id, key.attempt_id, key.question_id)
            # A modal must be the first answer to the click, so nothing slow happens before it.
            await interaction.response.send_modal(render.number_modal(modal_key, question))


class QuizMeButton(
    Click[ids.QuizMe],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.QuizMe.pattern,
):
    """Quiz me / Quiz again: a new private quiz for whoever clicks."""

    key_type = ids.QuizMe

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.QuizMe) -> None:
        async with Turn(interaction) as turn:
            await start_quiz(turn, key.lesson_id, None)


BUTTONS = (AnswerButton, AskNumberButton, QuizMeButton)
