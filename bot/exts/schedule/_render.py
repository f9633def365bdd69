"""How /schedule shows daily quizzes: the list, one schedule, and what a channel lacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.ui.embeds import COURSE_COLOUR
from bot.ui.limits import (
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_TOTAL_MAX,
)
from bot.ui.text import truncate, ts

if TYPE_CHECKING:
    from bot.content.model import Course
    from bot.services.daily import ReviewCandidate
    from bot.services.schedules import ScheduleView

REVEAL_NAMES = {"instant": "right/wrong at once", "at_close": "answer at close"}


def duration(minutes: int) -> str:
    """``23 h``, ``90 min``, ``1 d 2 h``."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or "0 min"


def next_post(schedule: ScheduleView) -> str:
    """``<t:…:F> (Mon 2 Dec, 09:00 Europe/Berlin)``, or why there is none."""
    if schedule.paused:
        return f"\u23f8\ufe0f paused: {schedule.pause_reason or 'by a moderator'}"
    if schedule.next_post_at is None or schedule.next_post_local is None:
        return "no next post"
    local = schedule.next_post_local
    return f"{ts(schedule.next_post_at)} ({local:%a %d %b, %H:%M} {schedule.timezone})"


REVIEW_SOURCE = (
    "the questions this server gets wrong most (lowest share right in the last 30 days, none "
    "repeated here within 14 days)"
)
REVIEW_NO_DATA = (
    "\u26a0\ufe0f No answers to pick from yet (none in this server in the last 30 days, or all "
    "posted here lately): until there are, it picks at random, like source `random`."
)


def review_status(candidates: int) -> str:
    """How source ``review`` will pick: from ``candidates`` questions, or at random for now."""
    if candidates:
        return (f"Review: the hardest of {candidates} question{'s' if candidates != 1 else ''} "
                "answered here lately.")
    return REVIEW_NO_DATA


def review_preview(hardest: ReviewCandidate | None, candidates: int) -> str:
    """Why the preview of a source-review quiz shows its question."""
    if hardest is None:
        return REVIEW_NO_DATA
    return (
        f"Review: the hardest of {candidates} question{'s' if candidates != 1 else ''} answered "
        f"here lately: {hardest.correct} of {hardest.answered} answers were right "
        f"({round(100 * hardest.share_right)}%)."
    )


def summary(schedule: ScheduleView, course: Course, review_candidates: int | None = None) -> str:
    """One schedule in a few lines (``review_candidates``: what source review can pick from)."""
    source = "the whole course"
    if schedule.lesson_id:
        lesson = course.lesson(schedule.lesson_id)
        source = lesson.label if lesson else "a lesson that was removed"
    if schedule.source == "review":
        source = REVIEW_SOURCE + (f", from {source}" if schedule.lesson_id else "")
    extras = [f"closes after {duration(schedule.close_after)}", REVEAL_NAMES.get(schedule.reveal, "")]
    if schedule.ping_role_id:
        extras.append(f"pings <@&{schedule.ping_role_id}>")
    if schedule.use_thread:
        extras.append("with a thread")
    lines = [
        f"<#{schedule.channel_id}> at **{schedule.local_time:%H:%M} {schedule.timezone}**, "
        f"{schedule.days_text}",
        f"Questions from {source}; " + ", ".join(e for e in extras if e) + ".",
        f"Next: {next_post(schedule)}",
    ]
    if schedule.source == "review" and review_candidates is not None:
        lines.append(review_status(review_candidates))
    if schedule.skip_date is not None and not schedule.paused:
        lines.append(f"Skipping {schedule.skip_date:%a %d %b}.")
    return "\n".join(lines)


def schedule_list(
    schedules: Sequence[ScheduleView],
    course: Course,
    *,
    cap: int,
    review_candidates: Mapping[int, int] | None = None,
) -> discord.Embed:
    """Every daily quiz of the server, within one embed's limits.

    ``review_candidates``: per schedule of source review, how many questions it can pick from.
    """
    embed = discord.Embed(title="Daily quizzes", colour=COURSE_COLOUR)
    if not schedules:
        embed.description = (
            "No daily quizzes yet. Add one with `/schedule add`: a channel, a time and a time "
            "zone (e.g. `Etc/UTC`)."
        )
        return embed
    embed.description = (
        f"{len(schedules)} of at most {cap}. Next posts show in your own time zone, with the "
        "schedule's own zone in brackets."
    )
    used = len(embed.title or "") + len(embed.description)
    shown = 0
    for schedule in schedules:
        name = truncate(f"#{schedule.id}" + (" (paused)" if schedule.paused else ""),
                        EMBED_FIELD_NAME_MAX)
        value = truncate(
            summary(schedule, course, (review_candidates or {}).get(schedule.id)),
            EMBED_FIELD_VALUE_MAX,
        )
        if shown >= EMBED_FIELDS_MAX - 1 or used + len(name) + len(value) > EMBED_TOTAL_MAX - 200:
            break
        embed.add_field(name=name, value=value, inline=False)
        used += len(name) + len(value)
        shown += 1
    if shown < len(schedules):
        embed.add_field(
            name="More",
            value=f"{len(schedules) - shown} more not shown: use `/schedule edit` with their id.",
            inline=False,
        )
    return embed


def saved(schedule: ScheduleView, course: Course, verb: str) -> discord.Embed:
    """The schedule after an add or an edit."""
    return discord.Embed(
        title=f"Daily quiz #{schedule.id} {verb}",
        description=truncate(summary(schedule, course), EMBED_DESCRIPTION_MAX),
        colour=COURSE_COLOUR,
    )


def missing_in_channel(channel_id: int, missing: Sequence[str]) -> str:
    """What the bot lacks in a channel, and where to grant it."""
    return truncate(
        f"I can't post daily quizzes in <#{channel_id}>: I need {', '.join(missing)} there. "
        "Grant them to my role (channel settings → Permissions), then try again.",
        CONTENT_MAX,
    )


def when(moment: datetime | None) -> str:
    """A timestamp, or a dash."""
    return ts(moment) if moment else "\u2013"
