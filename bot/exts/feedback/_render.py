"""What the feedback features show: modals, the reason picker, and learner text made inert."""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.content.model import Lesson, Question
from bot.services.feedback import MAX_COMMENT_CHARS, REPORT_REASONS
from bot.services.maintain import FeedbackItem
from bot.ui import custom_ids as ids
from bot.ui import views
from bot.ui.limits import MODAL_TITLE_MAX
from bot.ui.text import one_line, truncate

RATING_INPUT_ID = "rating"
COMMENT_INPUT_ID = "comment"
REASON_EMOJI = {"wrong_answer": "\u274c", "unclear": "\u2753", "typo": "\u270d\ufe0f",
                "other": "\U0001f4ac"}
_URL = re.compile(r"(?i)\b(https?|ftp|discord(?:app)?)(:)(//)")


def inert(text: str, limit: int) -> str:
    """Learner text shown in Discord as typed: no Markdown, no pings, no live links.

    Markdown is escaped (a ``[text](url)`` shows as typed), mentions are broken with a
    zero-width space (the messages also disable mentions), and a zero-width space after the
    scheme stops Discord from turning a URL into a link.
    """
    value = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    value = _URL.sub(lambda m: f"{m[1]}\u200b{m[2]}{m[3]}", value)
    return truncate(value, limit)


def feedback_modal(key: ids.FeedbackForm, lesson: Lesson | None) -> discord.ui.Modal:
    """The /feedback modal: a rating from 1 to 5 and a comment, both optional but not both."""
    title = f"Feedback: {lesson.title}" if lesson else "Feedback on the course"
    modal = discord.ui.Modal(title=truncate(one_line(title), MODAL_TITLE_MAX),
                             custom_id=key.encode(), timeout=None)
    modal.add_item(discord.ui.TextInput(
        label="Rating from 1 (poor) to 5 (great)", custom_id=RATING_INPUT_ID,
        placeholder="1, 2, 3, 4 or 5 (optional)", max_length=3, required=False,
    ))
    modal.add_item(discord.ui.TextInput(
        label="What worked, what didn't?", custom_id=COMMENT_INPUT_ID,
        style=discord.TextStyle.paragraph, max_length=MAX_COMMENT_CHARS, required=False,
        placeholder="Maintainers read every note. Please don't include personal details.",
    ))
    modal.stop()
    return modal


def comment_modal(custom_id: ids.CustomId, title: str, label: str) -> discord.ui.Modal:
    """A modal with one optional comment box (question reports, "tell us why")."""
    modal = discord.ui.Modal(title=truncate(one_line(title), MODAL_TITLE_MAX),
                             custom_id=custom_id.encode(), timeout=None)
    modal.add_item(discord.ui.TextInput(
        label=truncate(label, 45), custom_id=COMMENT_INPUT_ID,
        style=discord.TextStyle.paragraph, max_length=MAX_COMMENT_CHARS, required=False,
        placeholder="Optional: what exactly is wrong or unclear?",
    ))
    modal.stop()
    return modal


def report_modal(key: ids.ReportForm, question: Question) -> discord.ui.Modal:
    """The comment modal of a question report."""
    return comment_modal(key, f"Report: {question.prompt}",
                         REPORT_REASONS.get(key.reason, "Your comment"))


def reason_picker(key: ids.ReportQuestion) -> views.StaticView:
    """One button per reason; each opens the comment modal."""
    return views.StaticView(*[
        views.button(
            f"{REASON_EMOJI[reason]} {label}",
            ids.ReportReason(key.attempt_id, key.question_id, reason),
            row=0 if index < 2 else 1,
        )
        for index, (reason, label) in enumerate(REPORT_REASONS.items())
    ])


def forget_view() -> views.StaticView:
    """The one confirmation button of /forget-me."""
    return views.StaticView(
        views.button("Yes, forget me", ids.ForgetMe(), style=discord.ButtonStyle.danger)
    )


FORGET_EXPLAINED = (
    "**Forget me?** This deletes your name, your server memberships, and everything you wrote "
    "(feedback comments, /ask questions). Your quiz answers and reading progress stay in the "
    "course statistics under an anonymous id that is not linked to you and never appears on a "
    "leaderboard, so your points and streak are gone for good. Messages already posted in "
    "Discord stay; delete them there if you want them gone.\n\nClick the button to confirm."
)


def resolved_lines(items: Sequence[FeedbackItem]) -> str:
    """"By the way" lines for earlier feedback that maintainers resolved (empty if none)."""
    if not items:
        return ""
    lines = ["", "", "\u2705 The maintainers resolved your earlier feedback:"]
    for item in items[:5]:
        where = item.question_id or item.lesson_label or "the course"
        note = f": {inert(item.resolution_note, 200)}" if item.resolution_note else ""
        lines.append(f"- #{item.id} on {inert(where, 80)}{note}")
    return "\n".join(lines)
