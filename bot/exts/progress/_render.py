"""How progress looks on Discord: a learner's progress card and a server's leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.services.progress import Period
from bot.ui import embeds
from bot.ui.chart import FILENAME as CHART_FILENAME
from bot.ui.pagination import paginate_lines
from bot.ui.text import percent, plural, progress_bar, safe_name

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.progress import BoardEntry, ProgressSummary, ReviewOutlook

_MEDALS = {1: "\U0001f947", 2: "\U0001f948", 3: "\U0001f949"}


def progress(summary: ProgressSummary, *, name: str, with_chart: bool) -> discord.Embed:
    """Completion, accuracy per lesson, streak and rank for one learner."""
    embed = embeds.embed(title=f"Progress of {safe_name(name, 64)}")
    lines = []
    for view in summary.lessons:
        if not (view.read or view.answered or view.done):
            continue
        quiz = f"quiz {view.correct}/{view.answered}" if view.answered else "no quiz yet"
        done = " \u2705" if view.done else ""
        lines.append(
            f"**{view.lesson.number}.** {view.lesson.title}{done} \u2013 read "
            f"{view.read}/{len(view.lesson.snippets)}, {quiz}"
        )
    if lines:
        embed.description = paginate_lines(lines, max_lines=25, max_chars=3000)[0]
    else:
        embed.description = "Nothing yet: start with /lesson, then test yourself with /quiz."
    embeds.field(
        embed,
        "Lessons",
        f"{progress_bar(summary.completion)} {summary.lessons_done}/{summary.lessons_total} done",
        inline=False,
    )
    embeds.field(
        embed,
        "Quiz accuracy",
        f"{percent(summary.accuracy)} ({summary.correct}/{summary.answered} right)",
    )
    streak = summary.streak
    streak_text = f"\U0001f525 {plural(streak.current, 'day')} (longest {streak.longest})"
    if streak.current and not streak.answered_today:
        streak_text += "\nAnswer a question today to keep it."
    embeds.field(embed, "Streak", streak_text)
    points = plural(summary.points, "point")
    if summary.rank is not None:
        points += f" \u00b7 rank #{summary.rank} in this server"
    embeds.field(embed, "Points", points)
    embeds.field(embed, "Reviews", reviews_text(summary.reviews), inline=False)
    if with_chart:
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embeds.footer(embed, "Points come from the first right answer to each question.")


def reviews_text(outlook: ReviewOutlook) -> str:
    """Reviews due today and the predicted retention, or how reviews begin."""
    if not outlook.cards:
        return (
            "No questions to review yet: each one you answer in a quiz comes back with "
            "`/review` just before you would forget it."
        )
    return (
        f"**{outlook.due_today}** due today \u00b7 predicted retention "
        f"**{percent(outlook.retention)}** over {plural(outlook.cards, 'question')}. "
        "`/review` serves them (reviews in a DM earn no server points)."
    )


def due_per_day(outlook: ReviewOutlook) -> list[tuple[str, int]]:
    """The chart's columns of reviews due per day ahead (none without questions in review)."""
    if not outlook.cards:
        return []
    return [("today" if n == 0 else f"{day:%a}\n{day.day}", count)
            for n, (day, count) in enumerate(outlook.per_day)]


def leaderboard(entries: Sequence[BoardEntry], period: Period, guild_name: str) -> discord.Embed:
    """The guild's top learners."""
    when = "this week" if period is Period.WEEK else "all time"
    where = safe_name(guild_name, 60, fallback="this server")
    embed = embeds.embed(title=f"Top learners of {where}, {when}")
    if entries:
        embed.description = "\n".join(
            f"{_MEDALS.get(e.rank, f'`#{e.rank}`')} **{safe_name(e.name)}** \u00b7 "
            f"{plural(e.points, 'point')}"
            for e in entries
        )
    else:
        embed.description = (
            f"No points yet {'this week' if period is Period.WEEK else 'here'}. Answer quiz "
            "questions with /quiz to get on the board!"
        )
    footer = "A point for the first right answer to each question, answered in this server"
    if period is Period.WEEK:
        footer += ", in the last 7 days"
    return embeds.footer(embed, footer + ".")
