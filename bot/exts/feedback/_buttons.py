"""The buttons of feedback: report a question, pick a reason, tell us why, confirm forget-me."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import NotFoundError
from bot.exts._components import Click
from bot.exts._interactions import Turn, edit, send
from bot.exts.feedback import _render as render
from bot.exts.feedback._cog import check_asker
from bot.runtime import Unit
from bot.services.privacy import forget_learner
from bot.ui import custom_ids as ids
from bot.ui.embeds import notice


class ReportQuestionButton(
    Click[ids.ReportQuestion],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.ReportQuestion.pattern,
):
    """"Report this question": asks privately why (each reason opens the comment modal)."""

    key_type = ids.ReportQuestion

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.ReportQuestion) -> None:
        async with Turn(interaction) as turn:
            question = turn.course.questions.get(key.question_id)
            if question is None:
                raise NotFoundError(
                    "That question was removed from the course: nothing to report."
                )
            await send(
                interaction,
                content=notice(f"What is wrong with **{question.id}**? Pick a reason:"),
                view=render.reason_picker(key),
                ephemeral=True,
            )


class ReportReasonButton(
    Click[ids.ReportReason],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.ReportReason.pattern,
):
    """A reason of a report: opens the comment modal (a modal must be the click's first reply)."""

    key_type = ids.ReportReason

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.ReportReason) -> None:
        async with Turn(interaction) as turn:
            question = turn.course.questions.get(key.question_id)
            if question is None:
                raise NotFoundError(
                    "That question was removed from the course: nothing to report."
                )
            form = ids.ReportForm(key.attempt_id, key.question_id, key.reason)
            await interaction.response.send_modal(render.report_modal(form, question))


class TellWhyButton(
    Click[ids.TellWhy],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.TellWhy.pattern,
):
    """"Tell us why" after a 👎: the asker (checked in the database) gets the comment modal."""

    key_type = ids.TellWhy

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.TellWhy) -> None:
        async with Turn(interaction) as turn:
            await check_asker(turn, key.ask_log_id)
            form = ids.TellWhy(key.ask_log_id, form=True)
            await interaction.response.send_modal(
                render.comment_modal(
                    form, "Why did this answer miss?", "What was wrong or missing?"
                )
            )


class ForgetMeButton(
    Click[ids.ForgetMe],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.ForgetMe.pattern,
):
    """The confirmation of /forget-me: forgets whoever clicks, never an id from the button."""

    key_type = ids.ForgetMe

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.ForgetMe) -> None:
        async with Turn(interaction) as turn:

            async def forget(unit: Unit) -> str:
                return (await forget_learner(unit.session, unit.actor.user_id)).summary()

            summary = await turn.run(forget, update=True, ensure_learner=False)
            await edit(interaction, content=notice(summary), view=None)


BUTTONS = (ReportQuestionButton, ReportReasonButton, TellWhyButton, ForgetMeButton)
