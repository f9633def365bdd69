"""How maintainers see feedback: a paged list, one item with its context, item statistics."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.content.model import QuestionKind
from bot.exts.feedback._render import inert
from bot.services.item_analysis import ItemStat
from bot.services.maintain import FeedbackDetail, FeedbackItem, FeedbackPage
from bot.ui import custom_ids as ids
from bot.ui import embeds, views
from bot.ui.text import percent

KEY_MARK, OTHER_MARK = "\u2705", "\u25ab\ufe0f"
KIND_LABEL = {"lesson": "\U0001f4d6 lesson", "ask": "\U0001f4ac /ask", "question": "\u2691 question"}


def _when(moment: datetime) -> str:
    return discord.utils.format_dt(moment, "R")


def _line(item: FeedbackItem) -> str:
    where = item.question_id or item.lesson_label or "the course"
    rating = f" · {item.rating}/5" if item.rating and item.rating > 0 else ""
    reason = f" · {item.reason_label}" if item.reason else ""
    status = " · \u2705 resolved" if item.status == "resolved" else ""
    text = inert(item.comment or "", 160)
    return (f"**#{item.id}** {KIND_LABEL.get(item.kind, item.kind)} · {inert(where, 60)}{rating}"
            f"{reason}{status} · {_when(item.created_at)}\n> {text}")


def feedback_list(page: FeedbackPage, scope_label: str, filters: str) -> discord.Embed:
    """One page of feedback, newest first."""
    if not page.items:
        description = "Nothing here. " + (
            "Try `status: resolved` or another lesson." if filters else "No feedback yet."
        )
    else:
        description = "\n\n".join(_line(item) for item in page.items)
    embed = embeds.embed(title=f"Feedback in {scope_label}", description=description)
    embeds.footer(embed, f"{filters or 'open items'} · page {page.page + 1} of {page.pages} · "
                         f"{page.total} item(s) · /maintain feedback show <id> for details")
    return embed


def page_buttons(key: ids.FeedbackPageKey, page: FeedbackPage) -> views.StaticView | None:
    """◀ / ▶ for a list longer than one page."""
    if page.pages <= 1:
        return None

    def at(number: int) -> ids.FeedbackPageKey:
        number = min(max(number, 0), page.pages - 1)  # a disabled button still needs an id
        return ids.FeedbackPageKey(key.lesson_id, key.feedback_kind, key.status, number)

    return views.StaticView(
        views.button("\u25c0 Newer", at(page.page - 1), disabled=page.page == 0),
        views.button("Older \u25b6", at(page.page + 1), disabled=page.page >= page.pages - 1),
    )


def _stats(stats: ItemStat | None) -> str:
    if stats is None:
        return "No answers yet."
    lines = [
        f"{stats.learners} learner(s), {percent(stats.facility)} right",
        "discrimination " + (f"{stats.discrimination:.2f}" if stats.discrimination is not None
                             else "n/a (too few answers)"),
    ]
    lines += [f"\u26a0\ufe0f {flag.reason}" for flag in stats.flags]
    return "\n".join(lines)


def feedback_detail(detail: FeedbackDetail) -> discord.Embed:
    """One item: what was said, where, and for a reported question the key and its figures."""
    item = detail.item
    title = f"Feedback #{item.id}: {KIND_LABEL.get(item.kind, item.kind)}"
    embed = embeds.embed(title=title, description=inert(item.comment or "(no comment)", 1500))
    embeds.field(embed, "Where", inert(item.lesson_label or "the course", 200))
    if item.rating is not None:
        embeds.field(embed, "Rating", "\U0001f44e" if item.rating < 0 else
                     "\U0001f44d" if item.kind == "ask" else f"{item.rating}/5")
    if item.reason:
        embeds.field(embed, "Reason", item.reason_label or item.reason)
    embeds.field(embed, "Status", "open" if item.status == "open" else
                 f"resolved {_when(item.resolved_at) if item.resolved_at else ''}"
                 + (f": {inert(item.resolution_note, 300)}" if item.resolution_note else ""))
    question = detail.question
    if question is not None:
        if question.kind is QuestionKind.NUMERIC:
            choices = f"Answer: **{question.answer_text}**"
        else:
            picked = {c.choice_id: c.picked for c in detail.stats.choices} if detail.stats else {}
            lines = []
            for choice in question.choices:
                mark = KEY_MARK if question.is_correct_choice(choice.id) else OTHER_MARK
                count = f" (picked by {picked.get(choice.id, 0)})" if detail.stats else ""
                lines.append(f"{mark} {choice.text}{count}")
            choices = "\n".join(lines)
        embeds.field(embed, f"Question {question.id}", f"{question.prompt}\n{choices}",
                     inline=False)
        if detail.given:
            embeds.field(embed, "The reporter answered", inert(detail.given, 200))
        embeds.field(embed, "Statistics in this scope", _stats(detail.stats), inline=False)
    if detail.ask_question is not None:
        embeds.field(embed, "/ask question", inert(detail.ask_question or "(forgotten)", 500),
                     inline=False)
        embeds.field(embed, "Answer", inert(detail.ask_answer or "(none)", 900), inline=False)
    embeds.footer(embed, f"given {item.created_at:%Y-%m-%d %H:%M} UTC · "
                         f"/maintain feedback resolve {item.id} [note]")
    return embed


def flagged_questions(stats: list[ItemStat], scope_label: str) -> discord.Embed:
    """The questions item analysis flags in this scope, worst first."""
    flagged = [s for s in stats if any(c != "too-few" for c in s.flag_codes)]
    judged = sum(1 for s in stats if "too-few" not in s.flag_codes)
    if not flagged:
        description = (
            f"No question is flagged in {scope_label}. {judged} of {len(stats)} answered "
            "questions have enough answers (30 learners) to judge."
        )
    else:
        description = "\n\n".join(
            f"**{s.question_id}** · {s.learners} learners · {percent(s.facility)} right\n"
            + "\n".join(f"\u26a0\ufe0f {f.reason}" for f in s.flags)
            for s in flagged[:10]
        )
    embed = embeds.embed(title=f"Questions to fix in {scope_label}", description=description)
    embeds.footer(embed, "tutorbot report --out DIR has every figure, charts and choices")
    return embed
