"""The buttons of /review: "I know this", "Reset", Review more, New questions."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click, require_owner
from bot.exts._interactions import Turn, edit, send
from bot.exts.quiz import _render as quiz_render
from bot.exts.review import _render as render
from bot.exts.review._flow import start_review
from bot.services.review import NOT_YOUR_REVIEW
from bot.ui import custom_ids as ids


class CardActionButton(
    Click[ids.ReviewCardAction],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.ReviewCardAction.pattern,
):
    """"I know this" (the question leaves the reviews) or "Reset" (its schedule starts over)."""

    key_type = ids.ReviewCardAction

    async def clicked(
        self, interaction: discord.Interaction[Any], key: ids.ReviewCardAction
    ) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_REVIEW)
        async with Turn(interaction) as turn:
            learner = turn.actor.user_id
            if key.action == "k":
                action = await turn.run(
                    lambda unit: unit.services.review.suspend(
                        unit.session, learner, key.attempt_id, key.question_id
                    ),
                    update=True, ensure_learner=False,
                )
                await edit(interaction, embeds=render.suspended(action),
                           view=render.after_suspend(action, learner))
                return
            action = await turn.run(
                lambda unit: unit.services.review.reset(
                    unit.session, learner, key.attempt_id, key.question_id
                ),
                ephemeral=True, ensure_learner=False,
            )
            # The question stays on screen to be answered: the note comes privately below.
            await send(interaction, content=render.reset(action), ephemeral=True)


class StartReviewButton(
    Click[ids.StartReview],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.StartReview.pattern,
):
    """Review more / Review now: a review of the clicker's own due questions."""

    key_type = ids.StartReview

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.StartReview) -> None:
        async with Turn(interaction) as turn:
            await start_review(turn, key.count)


class NewQuestionsButton(
    Click[ids.NewQuestions],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.NewQuestions.pattern,
):
    """A quiz of questions the clicker has never answered."""

    key_type = ids.NewQuestions

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.NewQuestions) -> None:
        async with Turn(interaction) as turn:
            view = await turn.run(
                lambda unit: unit.services.review.start_new(
                    unit.session, unit.actor.user_id, guild_id=unit.actor.guild_id,
                    count=key.count,
                ),
                ephemeral=True,
            )
            await send(interaction, embeds=[quiz_render.quiz_question(view)],
                       view=quiz_render.question_buttons(view, turn.actor.user_id),
                       ephemeral=True)


BUTTONS = (CardActionButton, StartReviewButton, NewQuestionsButton)
