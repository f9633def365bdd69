"""What a posted daily quiz looks like: the question, its buttons, the replies and the results.

Course text is bounded by the content validator; names of people and roles are escaped and cut
here. Nothing in these messages pings anyone except the schedule's own ping role, and only
through ``allowed_mentions`` naming that role alone (see :func:`post_mentions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.content.model import Choice, Lesson, Question, QuestionKind
from bot.ui import custom_ids as ids
from bot.ui.embeds import COURSE_COLOUR, INFO_COLOUR, LETTERS
from bot.ui.limits import (
    BUTTON_LABEL_MAX,
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
    ROW_BUTTONS_MAX,
)
from bot.ui.text import percent, plural, truncate, ts
from bot.ui.views import StaticView

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.answer_batch import DailyAnswerOut
    from bot.services.daily import PostToSend, Results
    from bot.services.schedules import ScheduleView

NO_MENTIONS = discord.AllowedMentions.none()
REVEAL_TEXT = {
    "instant": "you see right or wrong as soon as you answer",
    "at_close": "the answer comes with the results when it closes",
}


def _embed(title: str, description: str, colour: discord.Colour) -> discord.Embed:
    return discord.Embed(
        title=truncate(title, EMBED_TITLE_MAX),
        description=truncate(description, EMBED_DESCRIPTION_MAX),
        colour=colour,
    )


def _label(question: Question, index: int, choice: Choice) -> str:
    if question.kind is QuestionKind.SINGLE:
        return LETTERS[index]
    return truncate(choice.text, BUTTON_LABEL_MAX)


def choice_name(question: Question, order: Sequence[str], choice_id: str) -> str:
    """``**B.** the text`` (or just the text for true/false) of a choice, lettered as shown.

    ``order`` is the choice ids in the order the post shows them.
    """
    choice = question.choice(choice_id)
    if choice is None:
        return "(a choice that is no longer in the question)"
    if question.kind is QuestionKind.SINGLE and choice_id in order:
        return f"**{LETTERS[list(order).index(choice_id)]}.** {choice.text}"
    return f"**{choice.text}**"


def _question_lines(question: Question, choices: Sequence[Choice]) -> list[str]:
    lines = [f"**{question.prompt}**"]
    if question.kind is QuestionKind.SINGLE:
        lines.append("")
        lines.extend(f"**{LETTERS[i]}.** {c.text}" for i, c in enumerate(choices))
    return lines


def post_content(post: PostToSend) -> str | None:
    """The message text above the quiz: the ping role's mention, or nothing."""
    return f"<@&{post.ping_role_id}>" if post.ping_role_id else None


def post_mentions(post: PostToSend) -> discord.AllowedMentions:
    """Pings the schedule's role only (never @everyone, @here, users or another role)."""
    if not post.ping_role_id:
        return NO_MENTIONS
    return discord.AllowedMentions(
        everyone=False, users=False, replied_user=False, roles=[discord.Object(post.ping_role_id)]
    )


def post_embed(post: PostToSend, lesson: Lesson | None) -> discord.Embed:
    """The public question: prompt, lettered choices, when it closes and how it reveals."""
    lines = _question_lines(post.question, post.choices)
    lines += [
        "",
        f"Answer with a button below (once: your first answer counts). Closes {ts(post.closes_at, 'R')}; "
        f"{REVEAL_TEXT.get(post.reveal, REVEAL_TEXT['at_close'])}.",
    ]
    embed = _embed("\U0001f9e0 Daily quiz", "\n".join(lines), COURSE_COLOUR)
    if lesson is not None:
        embed.set_author(name=truncate(lesson.label, 256))
    return embed.set_footer(text="Points count toward /progress and /leaderboard.")


def _choice_buttons(
    post_id: int,
    question: Question,
    choices: Sequence[Choice],
    *,
    disabled: bool = False,
    right_id: str | None = None,
) -> list[discord.ui.Button[Any]]:
    buttons: list[discord.ui.Button[Any]] = []
    for index, choice in enumerate(choices):
        style = discord.ButtonStyle.primary
        if disabled:
            style = (
                discord.ButtonStyle.success if choice.id == right_id else discord.ButtonStyle.secondary
            )
        buttons.append(
            discord.ui.Button(
                label=_label(question, index, choice),
                custom_id=ids.DailyChoice(post_id, choice.id).encode(),
                style=style,
                disabled=disabled,
                row=index // ROW_BUTTONS_MAX,
            )
        )
    return buttons


def post_view(post: PostToSend) -> StaticView:
    """One button per choice; each carries the post id (how the leader finds its post again)."""
    return StaticView(*_choice_buttons(post.post_id, post.question, post.choices))


def preview_view(post: PostToSend) -> StaticView:
    """The buttons of a private preview (/schedule test): shown, not clickable."""
    return StaticView(*_choice_buttons(post.post_id, post.question, post.choices, disabled=True))


def closed_view(results: Results) -> StaticView:
    """The post after closing: every choice disabled (the right one green) and "Closed"."""
    buttons = _choice_buttons(
        results.post_id,
        results.question,
        results.choices,
        disabled=True,
        right_id=results.right_choice.id if results.right_choice else None,
    )
    rows = (len(buttons) + ROW_BUTTONS_MAX - 1) // ROW_BUTTONS_MAX
    closed = discord.ui.Button[Any](
        label="\U0001f512 Closed: see the results below",
        custom_id=ids.DailyClosed(results.post_id).encode(),
        style=discord.ButtonStyle.secondary,
        disabled=True,
        row=rows,
    )
    return StaticView(*buttons, closed)


def report_view(question_id: str) -> StaticView:
    """"Report this question" (under the results, and under a member's own answer)."""
    return StaticView(
        discord.ui.Button[Any](
            label="\u2691 Report this question",
            custom_id=ids.ReportQuestion(0, question_id).encode(),
            style=discord.ButtonStyle.secondary,
        )
    )


def results_embed(results: Results, lesson: Lesson | None) -> discord.Embed:
    """The right answer and why, how many answered, the share right, the first five right."""
    question = results.question
    right = (
        choice_name(question, [c.id for c in results.choices], results.right_choice.id)
        if results.right_choice
        else question.answer_text
    )
    lines = [f"**{question.prompt}**", "", f"Right answer: {right}", "", question.explanation, ""]
    if results.answered:
        lines.append(
            f"{plural(results.answered, 'member')} answered; {percent(results.share_right)} "
            "got it right."
        )
    else:
        lines.append("Nobody answered this one.")
    if results.first_correct:
        # Mentions in an embed never ping; they render as names everyone can click.
        names = ", ".join(f"<@{learner_id}>" for learner_id, _ in results.first_correct)
        lines.append(f"First right: {names}")
    if lesson is not None:
        lines += ["", f"\U0001f4d6 Read more: {lesson.label} (/lesson {lesson.number})"]
    embed = _embed("\U0001f4ca Daily quiz results", "\n".join(lines), INFO_COLOUR)
    return embed.set_footer(text=truncate("Try more questions with /quiz.", EMBED_FOOTER_MAX))


def answer_reply(answer: DailyAnswerOut, order: Sequence[str]) -> str:
    """The private reply to a click: "recorded" (at_close) or right/wrong with why (instant).

    ``order`` is the choice ids as the clicked message shows them (for the letters only).
    """
    question = answer.question
    given = choice_name(question, order, answer.choice_id)
    if answer.already_answered:
        head = f"You already answered this one ({given}); your first answer stands."
    else:
        head = f"Answer recorded: {given}."
    if answer.reveal != "instant":
        text = f"\u2705 {head} The right answer comes with the results when the quiz closes."
        return truncate(text, CONTENT_MAX)
    if answer.correct:
        verdict = "\u2705 Right!"
    else:
        right = choice_name(question, order, question.answer_choice or "")
        verdict = f"\u274c Not quite. Right answer: {right}"
    return truncate(
        f"{head}\n{verdict}\n\n{question.explanation}\n\n"
        "Please keep the answer to yourself until the quiz closes.",
        CONTENT_MAX,
    )


def paused_notice(schedule: ScheduleView, reason: str) -> str:
    """What moderators are told when Discord refused a daily quiz and it was paused."""
    return truncate(
        f"\u23f8\ufe0f Daily quiz #{schedule.id} in <#{schedule.channel_id}> is paused: {reason}\n"
        "Fix it (give me the missing permission, or pick another channel with `/schedule edit`), "
        f"then run `/schedule resume id:{schedule.id}`.",
        CONTENT_MAX,
    )


__all__ = [
    "answer_reply",
    "choice_name",
    "closed_view",
    "paused_notice",
    "post_content",
    "post_embed",
    "post_mentions",
    "post_view",
    "preview_view",
    "report_view",
    "results_embed",
    "ts",
]
