"""The buttons of a reminder DM: review 5 now (a /review in the DM), snooze 1 h, turn off.

Each click runs in a :class:`~bot.exts._interactions.Turn`; the button names the learner it was
sent to and anyone else is refused; what a click may do comes from the ``reminder`` row.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click, require_owner
from bot.exts._interactions import Turn, edit
from bot.exts.remind import _render as render
from bot.exts.review._flow import start_review
from bot.services.reminders import REVIEW_NOW
from bot.ui import custom_ids as ids

NOT_YOURS = "This reminder was sent to someone else."


class ReminderButton(
    Click[ids.ReminderAction],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.ReminderAction.pattern,
):
    """Snoozes, turns off, or starts a review from a reminder DM."""

    key_type = ids.ReminderAction

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.ReminderAction) -> None:
        require_owner(interaction, key.learner_id, NOT_YOURS)
        async with Turn(interaction) as turn:
            if key.action == "snooze":
                snoozed = await turn.run(
                    lambda unit: unit.services.reminders.snooze(unit.session, unit.actor.user_id),
                    update=True,
                )
                await edit(interaction, content=render.snoozed(snoozed.until),
                           view=render.after_snooze_view(key.learner_id))
            elif key.action == "off":
                was_on = await turn.run(
                    lambda unit: unit.services.reminders.turn_off(
                        unit.session, unit.actor.user_id),
                    update=True,
                )
                await edit(interaction, content=render.OFF if was_on else render.WERE_OFF)
            else:
                # The review itself, in the DM (no server points there: the review says so).
                await start_review(turn, REVIEW_NOW)


BUTTONS = (ReminderButton,)
