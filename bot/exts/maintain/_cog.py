"""/maintain: the course maintainers review feedback and see which questions to fix."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn, edit, send
from bot.exts.maintain import _render as render
from bot.exts.maintain._access import Scope, maintainer_gate
from bot.runtime import Unit
from bot.services.item_analysis import ItemStat, analyse, first_answers
from bot.services.maintain import (
    FeedbackDetail,
    FeedbackItem,
    FeedbackPage,
    MaintainService,
    Resolution,
)
from bot.ui import custom_ids as ids
from bot.ui.autocomplete import lesson_choices
from bot.ui.embeds import notice

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger(__name__)

Kind = Literal["lesson", "ask", "question"]
Status = Literal["open", "resolved", "all"]
#: Servers only, and hidden from everyone without Manage Server until an admin opens it to the
#: maintainer role under Server Settings → Integrations (per top-level command).
MAINTAIN_PERMISSIONS = discord.Permissions(manage_guild=True)


def filters_text(key: ids.FeedbackPageKey) -> str:
    """The filters of a list, as its footer says them."""
    parts = [f"lesson {key.lesson_id}"] if key.lesson_id else []
    parts += [f"kind {key.feedback_kind}"] if key.feedback_kind else []
    parts.append(f"status {key.status or 'all'}")
    return ", ".join(parts)


async def show_page(
    interaction: discord.Interaction[Any], key: ids.FeedbackPageKey, *, update: bool
) -> None:
    """List one page of feedback for the maintainer (re-checked on every click)."""
    async with Turn(interaction) as turn:
        gate = await maintainer_gate(interaction)

        async def browse(unit: Unit) -> tuple[Scope, FeedbackPage]:
            scope = await gate.scope(unit)
            page = await MaintainService(unit.course).browse(
                unit.session, guild_id=scope.guild_id, lesson_id=key.lesson_id,
                kind=key.feedback_kind, status=key.status, page=key.page,
            )
            return scope, page

        scope, page = await turn.run(browse, ephemeral=True, update=update,
                                     ensure_learner=False)
        embed = render.feedback_list(page, scope.label, filters_text(key))
        view = render.page_buttons(key, page)
        if update:
            await edit(interaction, embeds=[embed], view=view)
        else:
            await send(interaction, embeds=[embed], view=view, ephemeral=True)


class Maintain(commands.Cog):
    """The maintainers' review of feedback and questions."""

    maintain = app_commands.Group(
        name="maintain",
        description="Course maintainers: review feedback and find questions to fix",
        default_permissions=MAINTAIN_PERMISSIONS,
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=False, private_channel=False
        ),
    )
    feedback = app_commands.Group(
        name="feedback", description="Learners' feedback in this server", parent=maintain
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @feedback.command(name="list")
    @app_commands.describe(lesson="Only this lesson", kind="Only this kind",
                           status="open (default), resolved, or all")
    async def feedback_list(
        self,
        interaction: discord.Interaction[Any],
        lesson: app_commands.Range[str, 1, 100] | None = None,
        kind: Kind | None = None,
        status: Status = "open",
    ) -> None:
        """List learners' feedback, newest first (only you see it)."""
        lesson_id = self.bot.app.services.course.resolve_lesson(lesson).id if lesson else None
        key = ids.FeedbackPageKey(lesson_id, kind, None if status == "all" else status, 0)
        await show_page(interaction, key, update=False)

    @feedback_list.autocomplete("lesson")
    async def _lessons(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return lesson_choices(self.bot.app.course.search_lessons(current))

    @feedback.command(name="show")
    @app_commands.describe(id="The number of the feedback (#12 in the list)")
    async def feedback_show(
        self, interaction: discord.Interaction[Any], id: app_commands.Range[int, 1, 2**62]
    ) -> None:
        """Read one piece of feedback with its context and the question's statistics."""
        async with Turn(interaction) as turn:
            gate = await maintainer_gate(interaction)

            async def show(unit: Unit) -> FeedbackDetail:
                scope = await gate.scope(unit)
                return await MaintainService(unit.course).show(
                    unit.session, id, guild_id=scope.guild_id
                )

            detail = await turn.run(show, ephemeral=True, ensure_learner=False)
            await send(interaction, embeds=[render.feedback_detail(detail)], ephemeral=True)

    @feedback.command(name="resolve")
    @app_commands.describe(id="The number of the feedback", note="What you did (the reporter "
                           "is told)")
    async def feedback_resolve(
        self,
        interaction: discord.Interaction[Any],
        id: app_commands.Range[int, 1, 2**62],
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Mark feedback as resolved; the learner who gave it is told by DM."""
        async with Turn(interaction) as turn:
            gate = await maintainer_gate(interaction)

            async def resolve(unit: Unit) -> Resolution:
                scope = await gate.scope(unit)
                return await MaintainService(unit.course).resolve(
                    unit.session, id, interaction.user.id, note, guild_id=scope.guild_id
                )

            result = await turn.run(resolve, ephemeral=True, ensure_learner=False)
            if result.already:
                await send(interaction, content=notice(
                    f"#{id} was already resolved; nothing changed."), ephemeral=True)
                return
            # The DM is an await on Discord: outside any transaction.
            told = await self._tell_reporter(result.item)
            if told:
                await turn.run(
                    lambda unit: MaintainService(unit.course).mark_notified(unit.session, id),
                    ephemeral=True, ensure_learner=False,
                )
            suffix = ("The learner was told by DM." if told else
                      "I couldn't DM the learner (their DMs are closed); they will be told in "
                      "the reply to their next note.")
            await send(interaction, content=notice(f"\u2705 Resolved #{id}. {suffix}"),
                       ephemeral=True)

    async def _tell_reporter(self, item: FeedbackItem) -> bool:
        """DM the learner that their feedback was acted on (False when DMs are closed)."""
        where = item.question_id or item.lesson_label or "the course"
        note = f"\n> {item.resolution_note}" if item.resolution_note else ""
        text = (f"\u2705 The course maintainers resolved your feedback on **{where}**. "
                f"Thank you for helping improve the course!{note}")
        try:
            user = self.bot.get_user(item.reporter_id) or await self.bot.fetch_user(
                item.reporter_id)
            await user.send(text, allowed_mentions=discord.AllowedMentions.none())
        except (discord.Forbidden, discord.NotFound):
            return False
        except discord.HTTPException:
            log.warning("could not DM the reporter of feedback #%d", item.id)
            return False
        return True

    @maintain.command(name="questions")
    async def questions(self, interaction: discord.Interaction[Any]) -> None:
        """The quiz questions whose statistics say they need fixing (item analysis)."""
        async with Turn(interaction) as turn:
            gate = await maintainer_gate(interaction)

            async def flagged(unit: Unit) -> tuple[Scope, list[ItemStat]]:
                scope = await gate.scope(unit)
                answers = await first_answers(unit.session, guild_id=scope.guild_id)
                return scope, analyse(unit.course, answers)

            scope, stats = await turn.run(flagged, ephemeral=True, ensure_learner=False)
            await send(interaction, embeds=[render.flagged_questions(stats, scope.label)],
                       ephemeral=True)
