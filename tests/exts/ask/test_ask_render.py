"""/ask rendering and edit ordering, without Discord: pages, sources, limits, the last edit."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import discord
import pytest

from bot.exts.ask import _render as render
from bot.exts.ask._throttle import ThrottledEdits
from bot.qa.llm import Usage
from bot.services.tutor import AskResult, Citation
from bot.ui import limits as L


def result(text: str, citations: int = 1, engine: str = "llm") -> AskResult:
    """An answer as the tutor gives it."""
    cited = tuple(
        Citation(f"p{n}", f"Lesson {n} - A lesson with a rather long title", f"Snippet {n}")
        for n in range(1, citations + 1)
    )
    return AskResult(
        question="q",
        text=text,
        engine=engine,  # type: ignore[arg-type]
        fallback_reason=None,
        citations=cited,
        usage=Usage(),
        latency_ms=1,
        model=None,
        ask_log_id=7,
    )


def embed_size(embed: discord.Embed) -> int:
    """What Discord counts against the 6,000 characters of a message's embeds."""
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (
        len(data.get("description", ""))
        + len(data.get("footer", {}).get("text", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
    )


def test_pieces_are_cut_between_paragraphs_first() -> None:
    text = "\n\n".join(["First paragraph. It has two sentences."] * 3)
    assert render.split_text(text, 90) == [
        "First paragraph. It has two sentences.\n\nFirst paragraph. It has two sentences.",
        "First paragraph. It has two sentences.",
    ]


def test_without_paragraphs_pieces_end_at_sentences_then_words() -> None:
    sentences = render.split_text("One two three. Four five six. Seven eight.", 20)
    assert sentences == ["One two three.", "Four five six.", "Seven eight."]
    words = render.split_text("alpha beta gamma delta epsilon", 12)
    assert words == ["alpha beta", "gamma delta", "epsilon"]


def test_a_word_longer_than_a_piece_is_cut_where_it_must_be() -> None:
    assert render.split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert render.split_text("", 10) == [""]


def test_a_short_answer_is_one_embed_with_its_sources_and_notes() -> None:
    [embed] = render.answer(
        result("A parameter is a number [1]."), follow_up="Follow up.", rated=True
    )
    assert embed.description == "A parameter is a number [1]."
    assert [(f.name, f.value) for f in embed.fields] == [
        ("Sources", "**[1]** Lesson 1 - A lesson with a rather long title: Snippet 1")
    ]
    assert embed.footer.text is not None and "Follow up." in embed.footer.text
    assert "can rate it" in embed.footer.text


def test_many_sources_are_cut_to_one_field() -> None:
    [embed] = render.answer(result("Text.", citations=40), follow_up=None, rated=False)
    value = embed.fields[0].value
    assert value is not None and len(value) <= L.EMBED_FIELD_VALUE_MAX
    assert value.endswith("more sources") and "**[1]**" in value
    assert embed.footer.text is not None and "can rate it" not in embed.footer.text


@pytest.mark.parametrize("length", [10, 4000, 4096, 9000, 40_000])
def test_every_page_of_an_answer_fits_discords_limits(length: int) -> None:
    text = ("word " * (length // 5))[:length]
    embeds = render.answer(result(text, citations=30, engine="local"), follow_up="x", rated=True)
    assert 1 <= len(embeds) <= render.MAX_PAGES
    for embed in embeds:
        assert embed.description is not None
        assert len(embed.description) <= L.EMBED_DESCRIPTION_MAX
        assert embed_size(embed) <= L.EMBED_TOTAL_MAX
    assert [bool(e.fields) for e in embeds] == [False] * (len(embeds) - 1) + [True]
    if length == 40_000:
        assert embeds[-1].description.endswith(render.CUT_NOTE)  # type: ignore[union-attr]


def test_names_and_quotes_fit() -> None:
    assert len(render.thread_name("why " * 100)) <= render.THREAD_NAME_MAX
    assert render.thread_name("What is a token?") == "Follow-up: What is a token?"
    assert len(render.question_line("q" * 5000)) <= L.CONTENT_MAX
    assert render.rating_buttons(1, None) is None


async def test_the_last_edit_waits_for_one_in_flight_and_drops_later_partials() -> None:
    shown: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def show(text: str) -> None:
        shown.append(text)
        started.set()
        await release.wait()  # Discord is slow to answer this edit

    async def final() -> str:
        shown.append("final")
        return "done"

    edits = ThrottledEdits(show, interval=0.0)
    edits.update("part 1")
    await started.wait()
    edits.update("part 2")  # arrives while "part 1" is in flight
    finishing = asyncio.create_task(edits.finish(final))
    await asyncio.sleep(0)
    assert shown == ["part 1"]  # the final edit does not overtake the one in flight
    release.set()
    assert await finishing == "done"
    edits.update("part 3")  # too late: ignored
    await edits.stop()
    assert shown == ["part 1", "final"]


async def test_texts_waiting_for_their_turn_collapse_into_the_newest() -> None:
    shown: list[str] = []
    changed = asyncio.Event()

    async def show(text: str) -> None:
        shown.append(text)
        changed.set()

    edits = ThrottledEdits(show, interval=0.2)
    edits.update("a")
    await changed.wait()  # the first edit goes at once
    changed.clear()
    for text in ("b", "c", "d"):  # all within the interval
        edits.update(text)
    await changed.wait()
    await edits.stop()
    assert shown == ["a", "d"]


def test_an_offline_answer_says_why_it_is_offline() -> None:
    configured = render.answer(result("Text.", engine="local"), follow_up=None, rated=True)[0]
    fallback = replace(result("Text.", engine="local"), fallback_reason="overloaded")
    stood_in = render.answer(fallback, follow_up=None, rated=True)[0]
    assert configured.footer.text and "by the local model" in configured.footer.text
    assert stood_in.footer.text and "the online tutor was unavailable" in stood_in.footer.text
    assert (
        configured.colour
        == stood_in.colour
        != render.answer(result("Text."), follow_up=None, rated=True)[0].colour
    )


def test_the_quoted_question_has_no_live_markdown_or_link() -> None:
    line = render.question_line("see [docs](https://evil.example/x_y) or http://a.b **now** @everyone")
    # Discord would show a masked link, a bare link and bold; escaped, it shows the text typed.
    assert "\\[docs]" in line and line.count("[") == line.count("\\[")
    assert "https://" not in line and "http://" not in line and "https\\://evil" in line
    assert "**now**" not in line and "\\*\\*now\\*\\*" in line
    assert line.startswith("> ") and "\n" not in line
