"""Showing a lesson page or the course overview (shared by the commands and the buttons)."""

from __future__ import annotations

from typing import Any

import discord

from bot.app import AppContext
from bot.exts._interactions import Actor, app_of, edit, ensure_learner, send, within_deadline
from bot.exts.lessons import _render as render
from bot.services.course import LessonStatus, Page
from bot.ui import embeds


async def send_page(
    interaction: discord.Interaction[Any],
    page: Page,
    learner_id: int,
    *,
    ephemeral: bool,
    note: str | None = None,
) -> None:
    """A new message showing ``page`` with its buttons, recorded as ``learner_id``'s page.

    The record is what the page's buttons check ownership against (never their custom id).
    """
    message_id = await send(
        interaction,
        content=embeds.notice(note) if note else None,
        embeds=[render.lesson_page(page)],
        view=render.lesson_buttons(page, learner_id),
        ephemeral=ephemeral,
    )
    if message_id is not None:
        app = app_of(interaction)
        async with app.db.sessions.begin() as session:
            await app.services.course.record_post(session, message_id, learner_id)


async def edit_page(
    interaction: discord.Interaction[Any], page: Page, learner_id: int, *, note: str | None = None
) -> None:
    """Replace the clicked lesson page with ``page``."""
    await edit(
        interaction,
        content=embeds.notice(note) if note else None,
        embeds=[render.lesson_page(page)],
        view=render.lesson_buttons(page, learner_id),
    )


async def load_overview(
    interaction: discord.Interaction[Any], app: AppContext, *, update: bool
) -> list[LessonStatus]:
    """Every lesson with the learner's marks (one short transaction)."""
    actor = Actor.of(interaction)

    async def work() -> list[LessonStatus]:
        async with app.db.sessions.begin() as session:
            await ensure_learner(session, app, actor)
            return await app.services.course.overview(session, actor.user_id)

    return await within_deadline(interaction, work(), ephemeral=True, update=update)


def overview_message(
    statuses: list[LessonStatus], learner_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The overview embed for ``page`` and its page buttons."""
    count = len(render.course_pages(statuses))
    page = min(max(page, 0), count - 1)
    return render.course_overview(statuses, page), render.course_buttons(learner_id, page, count)
