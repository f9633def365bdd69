"""Starting a review, shared by /review and the Review buttons (a reminder's too)."""

from __future__ import annotations

from bot.exts._interactions import Turn, send
from bot.exts.quiz import _render as quiz_render
from bot.exts.review import _render as render


async def start_review(turn: Turn, count: int | None) -> None:
    """Serve the clicker's due questions, or say when the next one is due."""
    start = await turn.run(
        lambda unit: unit.services.review.start(
            unit.session, unit.actor.user_id, guild_id=unit.actor.guild_id, count=count
        ),
        ephemeral=True,
    )
    if start.question is None:
        await send(turn.interaction, embeds=[render.nothing_due(start)],
                   view=render.nothing_due_buttons(), ephemeral=True)
        return
    await send(
        turn.interaction,
        embeds=render.first_question(start),
        view=quiz_render.question_buttons(start.question, turn.actor.user_id),
        ephemeral=True,
    )
