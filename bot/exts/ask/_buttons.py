"""👍 / 👎 under an /ask answer.

Only the learner who asked can rate an answer; anyone else who clicks gets a polite private
note. The thumbs say whether the answer helped with *that* question (in its thread's context),
which only the asker can judge, and it keeps a popular answer in a busy channel from being
piled on; it is also how every other button of the bot behaves (a button belongs to one
person). The asker may change their mind: the feedback service keeps one rating per learner
and answer, the latest.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click
from bot.exts._interactions import Turn, send
from bot.runtime import Unit
from bot.services.tutor import asker_of
from bot.ui import custom_ids as ids
from bot.ui import views
from bot.ui.embeds import notice

NOT_YOUR_ANSWER = (
    "Only the person who asked can rate this answer; thanks for reading along! "
    "Ask your own question with /ask."
)
TELL_WHY_LABEL = "\U0001f4ac Tell us why"
THANKS = {
    1: "\U0001f44d Thanks! Glad it helped. (You can change your rating at any time.)",
    -1: "\U0001f44e Thanks for telling us; it helps improve the tutor. "
    "(You can change your rating at any time.)",
}


class RateAnswerButton(
    Click[ids.RateAnswer],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.RateAnswer.pattern,
):
    """👍 / 👎: stores the asker's rating of the logged answer (one per learner and answer)."""

    key_type = ids.RateAnswer

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.RateAnswer) -> None:
        if interaction.user.id != key.asker_id:
            await send(interaction, content=notice(NOT_YOUR_ANSWER), ephemeral=True)
            return
        async with Turn(interaction) as turn:

            async def rate(unit: Unit) -> bool:
                # The id's asker may be edited: who asked is what the log row says.
                asker = await asker_of(unit.session, key.ask_log_id)
                if asker is not None and asker != unit.actor.user_id:
                    return False
                actor = unit.actor
                await unit.services.learners.ensure(
                    unit.session, actor.user_id, actor.name,
                    guild_id=actor.guild_id, guild_name=actor.guild_name,
                )
                await unit.services.feedback.rate_answer(
                    unit.session, actor.user_id, key.ask_log_id, key.rating,
                    guild_id=actor.guild_id,
                )
                return True

            # Nothing is written (not even the learner) for a forged asker id.
            rated = await turn.run(rate, ephemeral=True, ensure_learner=False)
            reply = THANKS[key.rating] if rated else NOT_YOUR_ANSWER
            # After a 👎, a button that opens the comment modal (a modal must be a click's first
            # response, so it takes a second click: the feedback extension handles it).
            why = None
            if rated and key.rating == -1:
                why = views.StaticView(views.button(TELL_WHY_LABEL, ids.TellWhy(key.ask_log_id)))
            await send(interaction, content=notice(reply), view=why, ephemeral=True)


BUTTONS = (RateAnswerButton,)
