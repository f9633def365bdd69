"""/feedback and /forget-me, and the modals of feedback (matched on custom id alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.content.model import Lesson
from bot.errors import InvalidInputError, NotFoundError
from bot.exts._errors import report_error
from bot.exts._interactions import Turn, send
from bot.exts.feedback import _render as render
from bot.runtime import Unit
from bot.services.feedback import FeedbackContext
from bot.services.maintain import FeedbackItem, MaintainService
from bot.ui import custom_ids as ids
from bot.ui.autocomplete import lesson_choices
from bot.ui.embeds import notice
from bot.ui.views import submitted_value

if TYPE_CHECKING:
    from bot.bot import TutorBot

THANKS = (
    "\U0001f64f Thanks! Your note is saved and the course maintainers read every one. "
    "I'll let you know when they act on it."
)


def parse_rating(text: str | None) -> int | None:
    """A rating typed into the modal: empty, or a whole number from 1 to 5 (``4/5`` works too)."""
    value = (text or "").strip()
    if not value:
        return None
    head = value.split("/", 1)[0].strip()
    if head.isascii() and head.isdigit() and 1 <= int(head) <= 5:
        return int(head)
    raise InvalidInputError(
        f"A rating is a whole number from 1 to 5 (you typed {value[:10]!r}). Your comment was "
        "not saved yet: please send it again with /feedback."
    )


async def check_asker(turn: Turn, ask_log_id: int) -> None:
    """Refuse unless the clicker asked the /ask answer ``ask_log_id`` (checked in the database)."""
    await turn.run(
        lambda unit: unit.services.feedback.check_asker(
            unit.session, ask_log_id, turn.actor.user_id
        ),
        ephemeral=True, ensure_learner=False,
    )


class Feedback(commands.Cog):
    """Learners tell the course authors what works and what doesn't."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="feedback")
    @app_commands.describe(lesson="The lesson it is about (default: the one you are reading)")
    async def feedback(
        self,
        interaction: discord.Interaction[Any],
        lesson: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Rate a lesson and tell the course authors what to improve."""
        async with Turn(interaction) as turn:
            chosen: Lesson | None
            if lesson:
                chosen = turn.services.course.resolve_lesson(lesson)
            else:
                chosen = await turn.run(
                    lambda unit: unit.services.course.current_lesson(
                        unit.session, turn.actor.user_id
                    ),
                    ephemeral=True, ensure_learner=False,
                )
            key = ids.FeedbackForm(chosen.id if chosen else None)
            # A modal must be the first response, so nothing slow happens before it.
            await interaction.response.send_modal(render.feedback_modal(key, chosen))

    @feedback.autocomplete("lesson")
    async def _lesson_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return lesson_choices(self.bot.app.course.search_lessons(current))

    @app_commands.command(name="forget-me")
    async def forget_me(self, interaction: discord.Interaction[Any]) -> None:
        """Delete what the bot knows about you (asks you to confirm first)."""
        await send(interaction, content=render.FORGET_EXPLAINED, view=render.forget_view(),
                   ephemeral=True)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Store what a learner typed into a feedback modal."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        key = ids.decode(str(data.get("custom_id", "")))
        if not isinstance(key, ids.FeedbackForm | ids.ReportForm | ids.TellWhy):
            return
        try:
            async with Turn(interaction) as turn:
                comment = submitted_value(data, render.COMMENT_INPUT_ID)
                if isinstance(key, ids.FeedbackForm):
                    rating = parse_rating(submitted_value(data, render.RATING_INPUT_ID))
                    await self._store(turn, comment=comment, rating=rating,
                                      context=FeedbackContext(lesson_id=key.lesson_id))
                elif isinstance(key, ids.ReportForm):
                    await self._report(turn, key, comment)
                elif key.form:
                    await check_asker(turn, key.ask_log_id)
                    if not (comment or "").strip():
                        raise InvalidInputError("Type a few words in the box, then send it.")
                    await self._store(turn, comment=comment,
                                      context=FeedbackContext(ask_log_id=key.ask_log_id))
        except Exception as exc:
            await report_error(interaction, exc)

    async def _report(self, turn: Turn, key: ids.ReportForm, comment: str | None) -> None:
        if key.question_id not in turn.course.questions:
            raise NotFoundError("That question was removed from the course: nothing to report.")
        answer_id = None
        if key.attempt_id:
            attempt_id = key.attempt_id
            answer_id = await turn.run(
                lambda unit: unit.services.feedback.reporters_answer(
                    unit.session, attempt_id, key.question_id, turn.actor.user_id
                ),
                ephemeral=True, ensure_learner=False,
            )
        await self._store(
            turn, comment=comment, reason=key.reason,
            context=FeedbackContext(question_id=key.question_id, quiz_answer_id=answer_id),
        )

    async def _store(
        self,
        turn: Turn,
        *,
        comment: str | None,
        context: FeedbackContext,
        rating: int | None = None,
        reason: str | None = None,
    ) -> None:
        actor = turn.actor
        context = FeedbackContext(
            lesson_id=context.lesson_id, snippet_id=context.snippet_id,
            question_id=context.question_id, quiz_answer_id=context.quiz_answer_id,
            ask_log_id=context.ask_log_id, guild_id=actor.guild_id,
        )

        async def store(unit: Unit) -> list[FeedbackItem]:
            await unit.services.feedback.record(
                unit.session, actor.user_id, rating=rating, comment=comment, context=context,
                reason=reason,
            )
            # Earlier notes resolved while the learner's DMs were closed: tell them now.
            return await MaintainService(unit.course).take_unnotified(unit.session, actor.user_id)

        resolved = await turn.run(store, ephemeral=True)
        # Acknowledged only now that the row is committed.
        await send(turn.interaction, content=notice(THANKS + render.resolved_lines(resolved)),
                   ephemeral=True)
