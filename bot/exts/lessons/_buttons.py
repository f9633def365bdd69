"""The buttons of a lesson page and of the course overview."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import NotFoundError
from bot.exts._components import Click, require_owner
from bot.exts._interactions import Actor, app_of, edit, ensure_learner, within_deadline
from bot.exts.lessons._pages import edit_page, load_overview, overview_message, send_page
from bot.services.course import Page
from bot.ui import custom_ids as ids

NOT_YOUR_PAGE = "This lesson page belongs to someone else. Open your own with /lesson."
NOT_YOUR_OVERVIEW = "This overview belongs to someone else. See yours with /course."


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
