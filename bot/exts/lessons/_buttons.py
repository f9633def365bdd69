"""The buttons of a lesson page and of the course overview."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import NotAllowedError, NotFoundError
from bot.exts._components import STALE_BUTTON, Click, require_owner
from bot.exts._interactions import Actor, app_of, edit, ensure_learner, within_deadline
from bot.exts.lessons._pages import edit_page, load_overview, overview_message, send_page
from bot.services.course import Page
from bot.ui import custom_ids as ids

if TYPE_CHECKING:
    from bot.app import AppContext

NOT_YOUR_PAGE = "This lesson page belongs to someone else. Open your own with /lesson."
NOT_YOUR_OVERVIEW = "This overview belongs to someone else. See yours with /course."


#: How long a click waits for its page's owner to be recorded: the page is posted first and
#: recorded a moment later, so a very fast click can arrive in between.
_RECORD_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)


async def require_page_owner(
    interaction: discord.Interaction[Any], app: AppContext, actor: Actor
) -> None:
    """Refuse unless the clicked lesson page is the actor's, as recorded in the database.

    The custom id's learner is never trusted: a client can send any id (and so edit someone
    else's public page with its own reading).
    """
    if interaction.message is None:
        raise NotFoundError(STALE_BUTTON)
    message_id = interaction.message.id
    waits = iter(_RECORD_WAITS_S)
    while True:
        async with app.db.sessions() as session:
            owner = await app.services.course.post_owner(session, message_id)
        wait = next(waits, None)
        if owner is not None or wait is None:
            break
        await asyncio.sleep(wait)
    if owner is None:
        raise NotAllowedError(
            "I can't tell whose lesson page this is (it may be from an older version of the "
            "bot). Open your own with /lesson."
        )
    if owner != actor.user_id:
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
        app = app_of(interaction)
        actor = Actor.of(interaction)
        last_lesson = app.course.lessons[-1] if app.course.lessons else None
        at_end = (
            key.offset > 0
            and last_lesson is not None
            and last_lesson.snippets[-1].id == key.snippet_id
        )

        await require_page_owner(interaction, app, actor)

        async def work() -> Page:
            async with app.db.sessions.begin() as session:
                await ensure_learner(session, app, actor)
                return await app.services.course.step(
                    session, actor.user_id, key.snippet_id, key.offset
                )

        page = await within_deadline(interaction, work(), update=True)
        note = None
        if at_end and page.lesson_done:
            note = "\U0001f389 You have read the whole course! Test yourself with /quiz."
        await edit_page(interaction, page, actor.user_id, note=note)


class MarkDoneButton(
    Click[ids.MarkDone],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.MarkDone.pattern,
):
    """Mark done: finish the lesson of the page shown (idempotent)."""

    key_type = ids.MarkDone

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.MarkDone) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_PAGE)
        app = app_of(interaction)
        actor = Actor.of(interaction)
        lesson = app.course.lesson_of(key.snippet_id)
        if lesson is None:
            raise NotFoundError(
                "That part of the course has changed since this page was opened. "
                "Use /lesson to continue where you left off."
            )

        await require_page_owner(interaction, app, actor)

        async def work() -> Page:
            async with app.db.sessions.begin() as session:
                await ensure_learner(session, app, actor)
                await app.services.course.mark_done(session, actor.user_id, lesson.id)
                return await app.services.course.show(session, actor.user_id, key.snippet_id)

        page = await within_deadline(interaction, work(), update=True)
        note = f"\u2705 {lesson.label} is marked done."
        await edit_page(interaction, page, actor.user_id, note=note)


class OpenSnippetButton(
    Click[ids.OpenSnippet],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.OpenSnippet.pattern,
):
    """Read this part: open a private lesson page at a snippet for whoever clicks."""

    key_type = ids.OpenSnippet

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.OpenSnippet) -> None:
        app = app_of(interaction)
        actor = Actor.of(interaction)

        async def work() -> Page:
            async with app.db.sessions.begin() as session:
                await ensure_learner(session, app, actor)
                return await app.services.course.show(session, actor.user_id, key.snippet_id)

        page = await within_deadline(interaction, work(), ephemeral=True)
        await send_page(interaction, page, actor.user_id, ephemeral=True)


class CoursePageButton(
    Click[ids.CoursePage],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.CoursePage.pattern,
):
    """◀ ▶ of a long course overview."""

    key_type = ids.CoursePage

    async def clicked(self, interaction: discord.Interaction[Any], key: ids.CoursePage) -> None:
        require_owner(interaction, key.learner_id, NOT_YOUR_OVERVIEW)
        statuses = await load_overview(interaction, app_of(interaction), update=True)
        embed, view = overview_message(statuses, key.learner_id, key.page)
        await edit(interaction, embeds=[embed], view=view)


BUTTONS = (PageStepButton, MarkDoneButton, OpenSnippetButton, CoursePageButton)
