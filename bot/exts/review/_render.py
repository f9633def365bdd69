"""How /review looks: the first due question (the quiz's look), or when the next one is due."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.exts.quiz import _render as quiz_render
from bot.services.review import DEFAULT_REVIEWS
from bot.ui import custom_ids as ids
from bot.ui import embeds, views
from bot.ui.text import plural, ts

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.review import CardAction, ReviewStart

#: Questions the "New questions" button asks for.
NEW_QUESTIONS = 5
NO_POINTS_IN_DM = (
    "Reviews in a DM earn no server points: review in a server to count them there."
)


def first_question(start: ReviewStart) -> list[discord.Embed]:
    """How many are due, then the first due question as /quiz shows it."""
    assert start.question is not None
    more = start.due - start.question.total
    lines = [f"{plural(start.due, 'question')} due, most overdue first."]
    if more > 0:
        lines.append(f"This review has {start.question.total}; {more} more wait for the next.")
    lines.append("\u2705 right: it comes back later. \u274c wrong: it comes back sooner.")
    if start.in_dm:
        lines.append(NO_POINTS_IN_DM)
    intro = embeds.embed(title="\U0001f501 Your review", description="\n".join(lines),
                         colour=embeds.INFO_COLOUR)
    return [intro, quiz_render.quiz_question(start.question)]


def nothing_due(start: ReviewStart) -> discord.Embed:
    """Nothing is due: when the next review is, and new questions to learn meanwhile."""
    if start.next_due is not None:
        lines = [f"Your next review is {ts(start.next_due, 'R')} ({ts(start.next_due, 'f')})."]
    else:
        lines = ["You have no questions to review yet. Answer quiz questions, and each comes "
                 "back here just before you would forget it."]
    if start.new_questions:
        lines.append(f"Meanwhile, {plural(start.new_questions, 'question')} of the course "
                     "are new to you.")
    if start.in_dm:
        lines.append(NO_POINTS_IN_DM)
    return embeds.embed(title="Nothing to review right now", description="\n".join(lines),
                        colour=embeds.INFO_COLOUR)


def nothing_due_buttons() -> views.StaticView:
    """New questions (never answered), or a quiz on the whole course."""
    return views.StaticView(
        views.button("\U0001f195 New questions", ids.NewQuestions(NEW_QUESTIONS),
                     style=discord.ButtonStyle.primary),
        views.button("\U0001f3b2 Quiz me", ids.QuizMe(None)),
    )


def suspended(action: CardAction) -> list[discord.Embed]:
    """After "I know this": what it did, then the next question or the score."""
    notice = embeds.embed(
        title="\U0001f9e0 Got it: this question won't come back for review",
        description=f"**{action.question.prompt}**\nIt comes back only if you get it wrong "
        "in a quiz some day.",
        colour=embeds.INFO_COLOUR,
    )
    if action.next_question is not None:
        return [notice, quiz_render.quiz_question(action.next_question)]
    if action.score is not None and action.score.total:
        return [notice, quiz_render.final_score(action.score)]
    return [notice]


def after_suspend(action: CardAction, learner_id: int) -> views.StaticView:
    """The next question's buttons, or Review more."""
    if action.next_question is not None:
        return quiz_render.question_buttons(action.next_question, learner_id)
    items: list[discord.ui.Item[Any]] = [
        views.button("\U0001f501 Review more", ids.StartReview(DEFAULT_REVIEWS),
                     style=discord.ButtonStyle.primary)
    ]
    return views.StaticView(*items)


def reset(action: CardAction) -> str:
    """After "Reset": what it did (a private note; the question stays on screen)."""
    return ("\u21ba Reset: this question's schedule starts afresh with your next answer, "
            "as if you met it for the first time.")
