"""Embeds for every reply of the bot, each within Discord's limits.

Course text (snippets, prompts, explanations) is bounded by the content validator and fits as it
is; anything a user typed or named (display names, options) is cut and escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import discord

from bot.content.model import Lesson, Question, QuestionKind, Snippet
from bot.ui.chart import FILENAME as CHART_FILENAME
from bot.ui.limits import (
    CONTENT_MAX,
    EMBED_AUTHOR_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
)
from bot.ui.pagination import clamp_page, paginate_lines
from bot.ui.text import percent, plural, progress_bar, safe_name, truncate

if TYPE_CHECKING:  # result types only: the ui never calls a service
    from bot.services.course import LessonStatus, Page
    from bot.services.progress import BoardEntry, ProgressSummary
    from bot.services.quiz import AnswerResult, QuestionView, Score

COURSE_COLOUR = discord.Colour(0x5865F2)
RIGHT_COLOUR = discord.Colour(0x57F287)
WRONG_COLOUR = discord.Colour(0xED4245)
INFO_COLOUR = discord.Colour(0x99AAB5)
LETTERS = "ABCDEFGHIJ"
COURSE_LINES_PER_PAGE = 20


def _embed(
    *, title: str = "", description: str = "", colour: discord.Colour = COURSE_COLOUR
) -> discord.Embed:
    return discord.Embed(
        title=truncate(title, EMBED_TITLE_MAX) or None,
        description=truncate(description, EMBED_DESCRIPTION_MAX) or None,
        colour=colour,
    )


def _footer(embed: discord.Embed, text: str) -> discord.Embed:
    return embed.set_footer(text=truncate(text, EMBED_FOOTER_MAX))


def _author(embed: discord.Embed, text: str) -> discord.Embed:
    return embed.set_author(name=truncate(text, EMBED_AUTHOR_MAX))


def _field(embed: discord.Embed, name: str, value: str, *, inline: bool = True) -> None:
    if len(embed.fields) >= EMBED_FIELDS_MAX:
        return
    embed.add_field(
        name=truncate(name, EMBED_FIELD_NAME_MAX),
        value=truncate(value, EMBED_FIELD_VALUE_MAX) or "\u2013",
        inline=inline,
    )


def notice(text: str) -> str:
    """Message content within Discord's limit (for short notes above an embed)."""
    return truncate(text, CONTENT_MAX)


def where_to_read(lesson: Lesson | None, snippet: Snippet | None) -> str:
    """``Lesson 2 - Tokens › Byte-pair encoding``: where the course explains something."""
    if lesson is None:
        return "the course (that part has moved; see /course)"
    if snippet is None:
        return lesson.label
    return f"{lesson.label} \u203a {snippet.title}"


# --- lessons -----------------------------------------------------------------------------------


def lesson_page(page: Page) -> discord.Embed:
    """One snippet of a lesson, with where it sits in the lesson."""
    embed = _embed(title=page.snippet.title, description=page.snippet.body)
    _author(embed, page.lesson.label)
    footer = f"Part {page.index + 1} of {page.total}"
    if page.lesson_done:
        footer += " \u00b7 \u2705 lesson done"
    if page.lesson.questions:
        footer += " \u00b7 Quiz me to test yourself"
    return _footer(embed, footer)


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
    embed = _embed(title=f"The course: {plural(len(statuses), 'lesson')}", description=pages[page])
    footer = (
        f"{done} of {len(statuses)} done \u00b7 \u2705 done \u00b7 \U0001f4d6 started \u00b7 "
        "\U0001f4cd where you are \u00b7 /lesson <name> opens one"
    )
    if len(pages) > 1:
        footer = f"Page {page + 1} of {len(pages)} \u00b7 " + footer
    return _footer(embed, footer)


# --- quiz ----------------------------------------------------------------------------------------


def _question_body(question: Question, choices: Sequence[tuple[str, str]]) -> str:
    lines = [f"**{question.prompt}**"]
    if question.kind is QuestionKind.SINGLE:
        lines.append("")
        lines.extend(f"**{letter}.** {text}" for letter, text in choices)
    elif question.kind is QuestionKind.NUMERIC:
        unit = f" (in {question.unit})" if question.unit else ""
        lines.append("")
        lines.append(f"Answer with a number{unit}: press **Answer** and type it.")
    return "\n".join(lines)


def choice_letters(view: QuestionView) -> list[tuple[str, str]]:
    """``(letter, choice text)`` in the order this attempt shows the choices."""
    return [(LETTERS[i], choice.text) for i, choice in enumerate(view.choices)]


def quiz_question(view: QuestionView, lesson: Lesson | None) -> discord.Embed:
    """A quiz question with its choices lettered in the attempt's order."""
    embed = _embed(
        title=f"Question {view.number} of {view.total}",
        description=_question_body(view.question, choice_letters(view)),
    )
    if lesson is not None:
        _author(embed, lesson.label)
    return _footer(embed, "Only you can see this quiz. Every answer is saved as you go.")


def _given(result: AnswerResult) -> str:
    unit = result.question.unit
    if result.question.kind is QuestionKind.NUMERIC and unit:
        return f"{result.given} {unit}"
    return result.given


def verdict(result: AnswerResult) -> discord.Embed:
    """Right or wrong, the explanation, and where in the course to read more."""
    q = result.question
    title = "\u2705 Right!" if result.correct else "\u274c Not quite"
    lines = [f"**{q.prompt}**", f"Your answer: {_given(result)}"]
    if not result.correct:
        lines.append(f"Right answer: {q.answer_text}")
    lines += [
        "",
        q.explanation,
        "",
        f"\U0001f4d6 Read more: {where_to_read(result.lesson, result.snippet)}",
    ]
    embed = _embed(
        title=title,
        description="\n".join(lines),
        colour=RIGHT_COLOUR if result.correct else WRONG_COLOUR,
    )
    score = result.score
    footer = f"Score so far: {score.correct} of {score.answered} right"
    if result.already_answered:
        footer = "You had already answered this question; your first answer counts. " + footer
    return _footer(embed, footer)


def final_score(score: Score) -> discord.Embed:
    """The score at the end of a quiz, with what to do next."""
    share = score.correct / score.total if score.total else 0.0
    if score.total and score.correct == score.total:
        cheer = "A perfect score! \U0001f389"
    elif share >= 0.6:
        cheer = "Well done."
    else:
        cheer = "Read the parts linked above again, then try once more."
    about = f" on {score.lesson.label}" if score.lesson else ""
    embed = _embed(
        title=f"Quiz finished: {score.correct} of {score.total} right ({percent(share)})",
        description=f"{cheer}\nTake another quiz{about} with the button below or /quiz; see "
        "how you are doing with /progress.",
        colour=RIGHT_COLOUR if share >= 0.6 else INFO_COLOUR,
    )
    return embed


def answer_embeds(result: AnswerResult, next_lesson: Lesson | None) -> list[discord.Embed]:
    """After an answer: the verdict, then the next question (or the final score)."""
    if result.next_question is not None:
        return [verdict(result), quiz_question(result.next_question, next_lesson)]
    return [verdict(result), final_score(result.score)]


# --- progress and leaderboard --------------------------------------------------------------------


def progress(summary: ProgressSummary, *, name: str, with_chart: bool) -> discord.Embed:
    """Completion, accuracy per lesson, streak and rank for one learner."""
    embed = _embed(title=f"Progress of {safe_name(name, 64)}")
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
    _field(
        embed,
        "Lessons",
        f"{progress_bar(summary.completion)} {summary.lessons_done}/{summary.lessons_total} done",
        inline=False,
    )
    _field(
        embed,
        "Quiz accuracy",
        f"{percent(summary.accuracy)} ({summary.correct}/{summary.answered} right)",
    )
    streak = summary.streak
    streak_text = f"\U0001f525 {plural(streak.current, 'day')} (longest {streak.longest})"
    if streak.current and not streak.answered_today:
        streak_text += "\nAnswer a question today to keep it."
    _field(embed, "Streak", streak_text)
    points = plural(summary.points, "point")
    if summary.rank is not None:
        points += f" \u00b7 rank #{summary.rank} in this server"
    _field(embed, "Points", points)
    if with_chart:
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return _footer(embed, "Points come from the first right answer to each question.")


class Period(StrEnum):
    """Which answers a leaderboard counts."""

    WEEK = "week"
    ALL = "all"


_MEDALS = {1: "\U0001f947", 2: "\U0001f948", 3: "\U0001f949"}


def leaderboard(entries: Sequence[BoardEntry], period: Period, guild_name: str) -> discord.Embed:
    """The guild's top learners."""
    when = "this week" if period is Period.WEEK else "all time"
    where = safe_name(guild_name, 60, fallback="this server")
    embed = _embed(title=f"Top learners of {where}, {when}")
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
    return _footer(embed, footer + ".")


# --- help, settings, errors ----------------------------------------------------------------------


class Role(StrEnum):
    """What /help shows: each role sees its own section on top of the learner's."""

    LEARNER = "learner"
    MODERATOR = "moderator"
    MAINTAINER = "maintainer"


@dataclass(frozen=True)
class CommandHelp:
    """One command as /help lists it."""

    usage: str  # e.g. ``/quiz [lesson] [questions]``
    description: str


def help_embed(commands: Sequence[CommandHelp], role: Role) -> discord.Embed:
    """What the bot can do, for a learner, a moderator or a maintainer."""
    embed = _embed(
        title="What I can do",
        description="I teach the course *Generative AI fundamentals*: short lessons, quizzes "
        "with instant explanations, and your progress. Quizzes and your settings are private; "
        "I never ping anyone.",
    )
    for command in commands:
        _field(embed, command.usage, command.description, inline=False)
    if role in (Role.MODERATOR, Role.MAINTAINER):
        _field(
            embed,
            "For moderators",
            "No moderator commands yet. Everything above works for you too: my replies never "
            "ping anyone, quizzes are visible only to the learner taking them, and a button "
            "only works for the person it belongs to.",
            inline=False,
        )
    if role is Role.MAINTAINER:
        _field(
            embed,
            "For maintainers",
            "No maintainer commands yet. The course lives in the bot's `lessons/` folder "
            "(check it with `tutorbot lessons check`); slash commands sync by themselves when "
            "the bot starts and they have changed.",
            inline=False,
        )
    return _footer(embed, f"Shown for a {role.value}. Start with /lesson.")


def error_message(text: str) -> str:
    """A domain error as the learner sees it."""
    return notice(f"\u26a0\ufe0f {text}")


def apology(error_id: str) -> str:
    """What a learner sees when something unexpected broke."""
    return (
        "\U0001f615 Sorry, something went wrong on my side. It has been logged with error id "
        f"`{error_id}`; please try again in a moment."
    )
