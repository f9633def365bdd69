"""The choice buttons of a posted daily quiz: anyone in the server answers, once."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click
from bot.exts._interactions import Turn, send
from bot.exts.daily import _render as render
from bot.ui import custom_ids as ids


def shown_order(message: discord.Message | None, post_id: int) -> list[str]:
    """The choice ids in the order the clicked message shows them (only to letter them)."""
    order: list[str] = []
    if message is None:
        return order
    for row in message.components:
        for item in getattr(row, "children", ()):
            key = ids.decode(getattr(item, "custom_id", None) or "")
            if isinstance(key, ids.DailyChoice) and key.post_id == post_id:
                order.append(key.choice_id)
    return order


class DailyChoiceButton(
    Click[ids.DailyChoice],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.DailyChoice.pattern,
):
    """Records the member's first answer (durably, before saying so) and answers privately.

    Whether the post still takes answers, which choice is right and whether to reveal it now
    all come from the ``daily_post`` row; the custom id only says what was clicked.

    The click runs in a :class:`Turn` (admitted, timed and counted like every interaction) but
    not in :meth:`Turn.run`'s transaction: it is the stated exception to one transaction per
    interaction. The answer goes to the process's batcher (:mod:`bot.services.answer_batch`),
    which writes the answers of many clicks in one commit and returns once this one is durable.
    """

    key_type = ids.DailyChoice

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.DailyChoice) -> None:
        async with Turn(interaction) as turn:
            actor = turn.actor
            recorded = await turn.batched(
                lambda answers: answers.record(
                    key.post_id, actor.user_id, key.choice_id, display_name=actor.name
                ),
                ephemeral=True,
            )
            order = shown_order(interaction.message, key.post_id)
            await send(interaction, content=render.answer_reply(recorded, order),
                       view=render.report_view(recorded.question.id), ephemeral=True)


BUTTONS = (DailyChoiceButton,)
