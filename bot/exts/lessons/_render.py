"""How lessons look on Discord: a lesson page, the course overview, and their buttons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.ui import custom_ids as ids
from bot.ui import embeds, views
from bot.ui.pagination import clamp_page, paginate_lines
from bot.ui.text import plural

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.course import LessonStatus, Page

COURSE_LINES_PER_PAGE = 20


def lesson_page(page: Page) -> discord.Embed:
    """One snippet of a lesson, with where it sits in the lesson."""
    embed = embeds.embed(title=page.snippet.title, description=page.snippet.body)
    embeds.author(embed, page.lesson.label)
    footer = f"Part {page.index + 1} of {page.total}"
    if page.lesson_done:
        footer += " \u00b7 \u2705 lesson done"
    if page.lesson.questions:
        footer += " \u00b7 Quiz me to test yourself"
    return embeds.footer(embed, footer)


def _lesson_mark(status: LessonStatus) -> str:
    if status.done:
        return "\u2705"  # done
    if status.current:
        return "\U0001f4cd"  # where the learner is
    if status.read:
        return "\U0001f4d6"  # started
    return "\u25ab\ufe0f"  # not started


def course_pages(statuses: Sequence[LessonStatus]) -> list[str]:
    """The lines of the course overview, paginated."""
    lines = [
        f"{_lesson_mark(s)} **{s.lesson.number}.** {s.lesson.title} \u00b7 {s.read}/{s.total} read"
        for s in statuses
    ]
    return paginate_lines(lines, max_lines=COURSE_LINES_PER_PAGE)


def course_overview(statuses: Sequence[LessonStatus], page: int = 0) -> discord.Embed:
    """Every lesson with the learner's progress marks (one page of them)."""
    pages = course_pages(statuses)
    page = clamp_page(page, len(pages))
    done = sum(1 for s in statuses if s.done)
    embed = embeds.embed(title=f"The course: {plural(len(statuses), 'lesson')}", description=pages[page])
    footer = (
        f"{done} of {len(statuses)} done \u00b7 \u2705 done \u00b7 \U0001f4d6 started \u00b7 "
        "\U0001f4cd where you are \u00b7 /lesson <name> opens one"
    )
    if len(pages) > 1:
        footer = f"Page {page + 1} of {len(pages)} \u00b7 " + footer
    return embeds.footer(embed, footer)


def lesson_buttons(page: Page, learner_id: int) -> views.StaticView:
    """Previous / Next / Mark done / Quiz me under a lesson page."""
    snippet_id = page.snippet.id
    if page.has_next:
        next_label, next_disabled = "Next \u25b6", False
    elif page.next_lesson is not None:
        next_label, next_disabled = "Next lesson \u25b6", False
    else:
        next_label, next_disabled = "End of the course", page.lesson_done
        if not page.lesson_done:
            next_label = "Finish the course \u2713"
    return views.StaticView(
        views.button(
            "\u25c0 Previous",
            ids.PageStep(learner_id, snippet_id, -1),
            disabled=not page.has_previous,
        ),
        views.button(
            next_label,
            ids.PageStep(learner_id, snippet_id, 1),
            style=discord.ButtonStyle.primary,
            disabled=next_disabled,
        ),
        views.button(
            "\u2713 Done" if page.lesson_done else "\u2713 Mark done",
            ids.MarkDone(learner_id, snippet_id),
            style=discord.ButtonStyle.success,
            disabled=page.lesson_done,
        ),
        views.button(
            "\u2753 Quiz me",
            ids.QuizMe(page.lesson.id),
            disabled=not page.lesson.questions,
        ),
    )


def course_buttons(learner_id: int, page: int, count: int) -> views.StaticView | None:
    """◀ ▶ under a course overview of several pages; ``None`` for a single page."""
    if count <= 1:
        return None
    return views.StaticView(
        views.button("\u25c0", ids.CoursePage(learner_id, max(page - 1, 0)), disabled=page <= 0),
        views.button(
            "\u25b6",
            ids.CoursePage(learner_id, min(page + 1, count - 1)),
            disabled=page >= count - 1,
        ),
    )
