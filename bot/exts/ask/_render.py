"""What an /ask reply looks like: the question, the answer in pages, its sources, the thumbs.

Every piece is cut to Discord's limits here. An answer longer than one embed description is
split at paragraph (else line, sentence, word) boundaries into pages: the first page is the
reply itself, the others follow as messages of their own, and the sources and the rating
buttons go under the last page, where the answer ends.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.ui import custom_ids as ids
from bot.ui import views
from bot.ui.embeds import COURSE_COLOUR, INFO_COLOUR
from bot.ui.limits import (
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FOOTER_MAX,
)
from bot.ui.text import ELLIPSIS, one_line, plural, truncate

if TYPE_CHECKING:  # result types only: rendering never calls the service
    from bot.services.tutor import AskResult, Citation

#: Discord's limit on a thread's name.
THREAD_NAME_MAX = 100
#: The question quoted above the answer (the full question is in the log).
QUESTION_SHOWN_MAX = 1000
#: Pages of one answer; anything longer is cut (``ask.max_tokens`` keeps answers far shorter).
MAX_PAGES = 5
CUT_NOTE = "\n\n*(The answer was cut here: it was too long. Try a narrower question.)*"

UP, DOWN = 1, -1
RATING_LABELS = {UP: "\U0001f44d Helpful", DOWN: "\U0001f44e Not helpful"}
WRITING = "\u270d\ufe0f The tutor is writing\u2026"

_BREAKS = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"\n"),  # lines
    re.compile(r"(?<=[.!?])\s+"),  # sentences
    re.compile(r"\s+"),  # words
)


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at the best boundary available.

    Paragraph breaks are preferred, then line breaks, sentence ends and spaces; a word longer
    than ``limit`` is cut where it must be. Whitespace at the cuts is dropped.
    """
    if limit < 1:
        raise ValueError("a piece holds at least one character")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]  # a break right after the limit still counts
        cut = None
        for pattern in _BREAKS:
            # The last break in the window, but not so early that the piece is a sliver.
            found = [m for m in pattern.finditer(window) if m.start() >= limit // 4]
            if found:
                cut = found[-1]
                break
        if cut is None:
            pieces.append(rest[:limit])
            rest = rest[limit:].lstrip()
        else:
            pieces.append(rest[: cut.start()].rstrip())
            rest = rest[cut.end() :].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


_SCHEME_RE = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")


def quoted(text: str) -> str:
    r"""Learner text made inert for a public message: Markdown escaped, no link left live.

    ``[text](url)`` shows as typed; ``https://`` becomes ``https\://``, which Discord shows
    as typed without making it a link. Mentions stay as typed: every reply is sent with
    mentions disabled, so they ping no one.
    """
    escaped = discord.utils.escape_markdown(text, ignore_links=False)
    return _SCHEME_RE.sub(r"\\:", escaped)


def question_line(question: str) -> str:
    """The learner's question, quoted above the answer (one line, escaped, cut if very long)."""
    return truncate(f"> {quoted(truncate(one_line(question), QUESTION_SHOWN_MAX))}", CONTENT_MAX)


def writing(text: str) -> discord.Embed:
    """The answer so far, while Claude is still writing it."""
    embed = discord.Embed(
        description=truncate(text, EMBED_DESCRIPTION_MAX) or ELLIPSIS, colour=COURSE_COLOUR
    )
    return embed.set_footer(text=WRITING)


def sources(citations: tuple[Citation, ...]) -> str:
    """``**[1]** Lesson 7 - Pre-training: Next-token prediction``, one a line, within a field."""
    lines = [
        truncate(f"**[{number}]** {citation.label}", 200)
        for number, citation in enumerate(citations, start=1)
    ]
    shown = len(lines)
    text = "\n".join(lines)
    while len(text) > EMBED_FIELD_VALUE_MAX:
        shown -= 1
        more = f"{ELLIPSIS} and {plural(len(lines) - shown, 'more source')}"
        text = "\n".join([*lines[:shown], more])
    return text


def _pages(text: str) -> list[str]:
    room = EMBED_DESCRIPTION_MAX - len(CUT_NOTE)
    pages = split_text(text, room)
    if len(pages) > MAX_PAGES:
        pages = pages[:MAX_PAGES]
        pages[-1] += CUT_NOTE
    return pages


def answer(result: AskResult, *, follow_up: str | None, rated: bool) -> list[discord.Embed]:
    """The final answer as embeds, one per message: the first is the reply, the rest follow.

    ``follow_up`` says where the conversation continues (a thread), shown under the answer;
    ``rated`` whether the rating buttons come with it.
    """
    offline = result.engine == "local"
    colour = INFO_COLOUR if offline else COURSE_COLOUR
    pages = _pages(result.text)
    embeds = [discord.Embed(description=page or ELLIPSIS, colour=colour) for page in pages]
    last = embeds[-1]
    if result.citations:
        last.add_field(name="Sources", value=sources(result.citations), inline=False)
    if offline and result.fallback_reason:
        note = "Offline answer, assembled from the course notes: the online tutor was unavailable."
    elif offline:  # answering offline is the configured engine
        note = "Offline answer, assembled from the course notes by the local model."
    else:
        note = (
            "Answered by the AI tutor from the course notes; it can be wrong, so check the sources."
        )
    notes = [note]
    if follow_up:
        notes.append(follow_up)
    if rated:
        notes.append("The asker can rate it with \U0001f44d or \U0001f44e.")
    for number, embed in enumerate(embeds, start=1):
        part = f"Part {number} of {len(embeds)}" if len(embeds) > 1 else ""
        text = " \u00b7 ".join(p for p in (part, *(notes if embed is last else ())) if p)
        if text:
            embed.set_footer(text=truncate(text, EMBED_FOOTER_MAX))
    return embeds


def rating_buttons(asker_id: int, ask_log_id: int | None) -> views.StaticView | None:
    """👍 / 👎 for the asker; ``None`` when the answer could not be logged (nothing to rate)."""
    if ask_log_id is None:
        return None
    return views.StaticView(
        *(
            views.button(label, ids.RateAnswer(asker_id, ask_log_id, rating))
            for rating, label in RATING_LABELS.items()
        )
    )


def thread_name(question: str) -> str:
    """``Follow-up: <question>``, within Discord's limit for thread names."""
    return truncate(f"Follow-up: {one_line(question)}", THREAD_NAME_MAX)


def ask_elsewhere(channel_ids: list[int]) -> str:
    """Where /ask may be used in this server (its moderators chose the channels)."""
    where = ", ".join(f"<#{channel_id}>" for channel_id in channel_ids[:10])
    more = " and a few others" if len(channel_ids) > 10 else ""
    return f"In this server, /ask works in {where}{more}. Ask there (or in a DM with me)."
