"""Showing a lesson page or the course overview (shared by the commands and the buttons)."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._interactions import Turn, edit, send
from bot.exts.lessons import _render as render
from bot.services.course import LessonStatus, Page
from bot.ui import embeds


async def send_page(
    turn: Turn,
    page: Page,
    *,
    ephemeral: bool,
    note: str | None = None,
) -> None:
    """A new message showing ``page`` with its buttons, recorded as the actor's page.

    The record is what the page's buttons check ownership against (never their custom id).
    """
    learner_id = turn.actor.user_id
    message_id = await send(
        turn.interaction,
        content=embeds.notice(note) if note else None,
        embeds=[render.lesson_page(page)],
        view=render.lesson_buttons(page, learner_id),
        ephemeral=ephemeral,
    )
    if message_id is not None:
        await turn.run(
            lambda unit: unit.services.course.record_post(unit.session, message_id, learner_id),
            ensure_learner=False,
        )


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


async def load_overview(turn: Turn, *, update: bool) -> list[LessonStatus]:
    """Every lesson with the learner's marks (one short transaction)."""
    return await turn.run(
        lambda unit: unit.services.course.overview(unit.session, unit.actor.user_id),
        ephemeral=True,
        update=update,
    )


def overview_message(
    statuses: list[LessonStatus], learner_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The overview embed for ``page`` and its page buttons."""
    count = len(render.course_pages(statuses))
    page = min(max(page, 0), count - 1)
    return render.course_overview(statuses, page), render.course_buttons(learner_id, page, count)
