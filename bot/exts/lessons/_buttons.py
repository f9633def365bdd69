"""The buttons of a lesson page and of the course overview."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.errors import NotAllowedError, NotFoundError
from bot.exts._components import STALE_BUTTON, Click, require_owner
from bot.exts._interactions import Turn, edit, within_deadline
from bot.exts.lessons._pages import edit_page, load_overview, overview_message, send_page
from bot.ui import custom_ids as ids

NOT_YOUR_PAGE = "This lesson page belongs to someone else. Open your own with /lesson."
NOT_YOUR_OVERVIEW = "This overview belongs to someone else. See yours with /course."


#: How long a click waits for its page's owner to be recorded: the page is posted first and
#: recorded a moment later, so a very fast click can arrive in between.
_RECORD_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)


async def require_page_owner(turn: Turn) -> None:
    """Refuse unless the clicked lesson page is the actor's, as recorded in the database.

    The custom id's learner is never trusted: a client can send any id (and so edit someone
    else's public page with its own reading).
    """
    message = turn.interaction.message
    if message is None:
        raise NotFoundError(STALE_BUTTON)
    message_id = message.id
    waits = iter(_RECORD_WAITS_S)
    while True:
        async with turn.app.db.sessions() as session:
            owner = await turn.services.course.post_owner(session, message_id)
        wait = next(waits, None)
        if owner is not None or wait is None:
            break
        await asyncio.sleep(wait)
    if owner is None:
        raise NotAllowedError(
            "I can't tell whose lesson page this is (it may be from an older version of the "
            "bot). Open your own with /lesson."
        )
    if owner != turn.actor.user_id:
        raise NotAllowedError(NOT_YOUR_PAGE)


class PageStepButton(
    Click[ids.PageStep],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.PageStep.pattern,
):
    """Previous / Next: move from the snippet the page shows (past the end: the next lesson)."""

    key_type = ids.PageStep

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.PageStep) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_PAGE)
        async with Turn(interaction) as turn:
            # Within the deadline: on SQLite the check may wait for a lock (then it defers).
            await within_deadline(interaction, require_page_owner(turn), update=True)
            page = await turn.run(
                lambda unit: unit.services.course.step(
                    unit.session, unit.actor.user_id, key.snippet_id, key.offset
                ),
                update=True,
            )
            note = None
            if page.finished_course:
                note = "\U0001f389 You have read the whole course! Test yourself with /quiz."
            await edit_page(interaction, page, turn.actor.user_id, note=note)


class MarkDoneButton(
    Click[ids.MarkDone],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.MarkDone.pattern,
):
    """Mark done: finish the lesson of the page shown (idempotent)."""

    key_type = ids.MarkDone

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.MarkDone) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_PAGE)
        async with Turn(interaction) as turn:
            # Within the deadline: on SQLite the check may wait for a lock (then it defers).
            await within_deadline(interaction, require_page_owner(turn), update=True)
            page = await turn.run(
                lambda unit: unit.services.course.mark_done_at(
                    unit.session, unit.actor.user_id, key.snippet_id
                ),
                update=True,
            )
            note = f"\u2705 {page.lesson.label} is marked done."
            await edit_page(interaction, page, turn.actor.user_id, note=note)


class OpenSnippetButton(
    Click[ids.OpenSnippet],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.OpenSnippet.pattern,
):
    """Read this part: open a private lesson page at a snippet for whoever clicks."""

    key_type = ids.OpenSnippet

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.OpenSnippet) -> None:
        async with Turn(interaction) as turn:
            page = await turn.run(
                lambda unit: unit.services.course.show(
                    unit.session, unit.actor.user_id, key.snippet_id
                ),
                ephemeral=True,
            )
            await send_page(turn, page, ephemeral=True)


class CoursePageButton(
    Click[ids.CoursePage],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.CoursePage.pattern,
):
    """◀ ▶ of a long course overview."""

    key_type = ids.CoursePage

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.CoursePage) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_OVERVIEW)
        async with Turn(interaction) as turn:
            statuses = await load_overview(turn, update=True)
            embed, view = overview_message(statuses, key.learner_id, key.page)
            await edit(interaction, embeds=[embed], view=view)


BUTTONS = (PageStepButton, MarkDoneButton, OpenSnippetButton, CoursePageButton)
