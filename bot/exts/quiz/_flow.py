"""Starting a quiz and recording an answer, shared by the command, the buttons and the modal."""

from __future__ import annotations

from bot.exts._interactions import Turn, edit, send
from bot.exts.quiz import _render as render
from bot.services.quiz import QuestionRemovedError, QuestionView
from bot.ui.embeds import error_message

NOT_YOUR_QUIZ = "This quiz belongs to someone else. Start your own with /quiz."


async def start_quiz(turn: Turn, lesson_id: str | None, count: int | None) -> None:
    """Start a quiz for the person behind the interaction and show its first question."""
    view = await turn.run(
        lambda unit: unit.services.quiz.start(
            unit.session,
            unit.actor.user_id,
            guild_id=unit.actor.guild_id,
            lesson_id=lesson_id,
            count=count,
        ),
        ephemeral=True,
    )
    await send(
        turn.interaction,
        embeds=[render.quiz_question(view)],
        view=render.question_buttons(view, turn.actor.user_id),
        ephemeral=True,
    )


async def answer(
    turn: Turn,
    attempt_id: int,
    question_id: str,
    *,
    choice_id: str | None = None,
    value: float | None = None,
) -> None:
    """Record one answer (exactly once) and show the verdict with the next question."""
    interaction = turn.interaction
    learner_id = turn.actor.user_id
    # Batched with other learners' answers (bot.services.answer_batch); the attempt's owner was
    # made a learner when it started, so an answer writes nothing else.
    try:
        result = await turn.batched(
            lambda answers: answers.record_practice(
                turn.services.quiz, attempt_id, learner_id, question_id,
                choice_id=choice_id, value=value,
            ),
            update=interaction.message is not None,
            ephemeral=True,
        )
    except QuestionRemovedError:
        await show_next_instead(turn, attempt_id)  # nothing was recorded for it
        return
    message_embeds = render.answer_embeds(result)
    view = render.after_answer(result, learner_id)
    if interaction.message is not None:
        await edit(interaction, embeds=message_embeds, view=view)
    else:  # a modal not opened from a message: answer with a new one
        await send(interaction, embeds=message_embeds, view=view, ephemeral=True)


async def show_next_instead(turn: Turn, attempt_id: int) -> None:
    """The question clicked was removed from the course: go on with the next one, or say so."""
    learner_id = turn.actor.user_id
    following = await turn.run(
        lambda unit: unit.services.quiz.next_question(unit.session, attempt_id, learner_id),
        update=turn.interaction.message is not None, ephemeral=True, ensure_learner=False,
    )
    removed = QuestionRemovedError(following)
    if following is None:
        raise removed  # said privately by the error handler
    await _show(turn, following, note=str(removed))


async def _show(turn: Turn, question: QuestionView, *, note: str) -> None:
    """Show ``question`` in place of the one clicked, with ``note`` above it."""
    interaction = turn.interaction
    embeds = [render.quiz_question(question)]
    view = render.question_buttons(question, turn.actor.user_id)
    if interaction.message is not None:
        await edit(interaction, content=error_message(note), embeds=embeds, view=view)
    else:
        await send(interaction, content=error_message(note), embeds=embeds, view=view,
                   ephemeral=True)
