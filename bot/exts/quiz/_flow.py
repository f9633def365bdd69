"""Starting a quiz and recording an answer, shared by the command, the buttons and the modal."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._interactions import Actor, app_of, edit, ensure_learner, send, within_deadline
from bot.exts.quiz import _render as render
from bot.services.quiz import AnswerResult, QuestionView

NOT_YOUR_QUIZ = "This quiz belongs to someone else. Start your own with /quiz."


async def start_quiz(
    interaction: discord.Interaction[Any], lesson_id: str | None, count: int | None
) -> None:
    """Start a quiz for the person behind ``interaction`` and show its first question."""
    app = app_of(interaction)
    actor = Actor.of(interaction)

    async def work() -> QuestionView:
        async with app.db.sessions.begin() as session:
            await ensure_learner(session, app, actor)
            return await app.services.quiz.start(
                session, actor.user_id, guild_id=actor.guild_id, lesson_id=lesson_id, count=count
            )

    view = await within_deadline(interaction, work(), ephemeral=True)
    lesson = app.course.lesson(view.question.lesson_id)
    await send(
        interaction,
        embeds=[render.quiz_question(view, lesson)],
        view=render.question_buttons(view, actor.user_id),
        ephemeral=True,
    )


async def answer(
    interaction: discord.Interaction[Any],
    attempt_id: int,
    question_id: str,
    *,
    choice_id: str | None = None,
    value: float | None = None,
) -> None:
    """Record one answer (exactly once) and show the verdict with the next question."""
    app = app_of(interaction)
    learner_id = interaction.user.id

    async def work() -> AnswerResult:
        async with app.db.sessions.begin() as session:
            return await app.services.quiz.record_answer(
                session, attempt_id, learner_id, question_id, choice_id=choice_id, value=value
            )

    result = await within_deadline(
        interaction, work(), update=interaction.message is not None, ephemeral=True
    )
    following = result.next_question
    next_lesson = app.course.lesson(following.question.lesson_id) if following else None
    message_embeds = render.answer_embeds(result, next_lesson)
    view = render.after_answer(result, learner_id)
    if interaction.message is not None:
        await edit(interaction, embeds=message_embeds, view=view)
    else:  # a modal not opened from a message: answer with a new one
        await send(interaction, embeds=message_embeds, view=view, ephemeral=True)
