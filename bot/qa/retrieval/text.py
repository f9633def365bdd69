"""Markdown to text: the blocks, paragraphs and quotable sentences of a passage.

Retrieval ranks plain prose (:func:`plain_text`) and the offline answer quotes whole sentences
(:func:`candidate_sentences`): both come from here, so what is ranked is what can be quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from bot.content.markdown import strip_formatting

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_LIST_RE = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE_RE = re.compile(r"^\s*\|")
_QUOTE_RE = re.compile(r"^\s*>\s?")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_STRESS_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_CODE_SPAN_RE = re.compile(r"`([^`]*)`")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or table of a passage, with its Markdown kind."""

    kind: Literal["text", "item", "table", "code", "heading"]
    markdown: str


def split_blocks(markdown: str) -> list[Block]:
    """Split Markdown into paragraphs, list items, tables, code blocks and headings."""
    blocks: list[Block] = []
    lines: list[str] = []
    kind: Literal["text", "item", "table", "code", "heading"] = "text"

    def flush() -> None:
        nonlocal lines
        if lines:
            joiner = "\n" if kind in ("code", "table") else " "
            blocks.append(Block(kind, joiner.join(lines).strip()))
        lines = []

    in_code = False
    for raw in _HTML_COMMENT_RE.sub("", markdown).splitlines():
        if in_code:
            lines.append(raw)
            if _FENCE_RE.match(raw):
                flush()
                in_code = False
            continue
        if _FENCE_RE.match(raw):
            flush()
            kind, in_code = "code", True
            lines.append(raw)
            continue
        if not raw.strip():
            flush()
            continue
        if _HEADING_RE.match(raw):
            flush()
            kind = "heading"
            lines.append(raw)
            flush()
            continue
        if _TABLE_RE.match(raw):
            if kind != "table":
                flush()
            kind = "table"
            lines.append(raw)
            continue
        if _LIST_RE.match(raw):
            flush()
            kind = "item"
            lines.append(_LIST_RE.sub("", raw, count=1).strip())
            continue
        if kind == "table" or (kind == "heading" and not lines):
            flush()
            kind = "text"
        if not lines:
            kind = "item" if kind == "item" and raw.startswith((" ", "\t")) else "text"
        lines.append(_QUOTE_RE.sub("", raw).strip())
    if in_code:  # an unclosed fence: still code, never prose
        kind = "code"
    flush()
    return blocks


def paragraphs(markdown: str) -> list[str]:
    """Markdown cut at blank lines, except inside a fenced code block."""
    found: list[list[str]] = [[]]
    in_code = False
    for line in markdown.splitlines():
        if _FENCE_RE.match(line):
            in_code = not in_code
        if not line.strip() and not in_code:
            if found[-1]:
                found.append([])
            continue
        found[-1].append(line)
    return ["\n".join(p).strip() for p in found if p]


def ends_with_lead_in(markdown: str) -> bool:
    """Whether ``markdown`` ends with a lead-in ("Four habits:") that introduces what follows."""
    return markdown.rstrip().rstrip("*_").endswith(":")


def is_list(markdown: str) -> bool:
    """Whether every line of ``markdown`` is a list item."""
    return all(_LIST_RE.match(line) for line in markdown.splitlines() if line.strip())


def strip_inline(markdown: str, *, keep_code: bool = True) -> str:
    """Inline Markdown to readable text: emphasis and links dropped, whitespace collapsed.

    Inline code keeps its backticks when ``keep_code`` (Discord shows them as code).
    """
    text = strip_formatting(markdown)
    if not keep_code:
        text = _CODE_SPAN_RE.sub(r"\1", text)
    return _SPACES_RE.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def plain_text(markdown: str) -> str:
    """A passage as plain prose for ranking: code and tables kept as text, formatting dropped.

    Cached: building the index reads each passage's text several times.
    """
    parts = []
    for block in split_blocks(markdown):
        if block.kind == "code":
            body = [ln for ln in block.markdown.splitlines() if not _FENCE_RE.match(ln)]
            parts.append(" ".join(body))
        elif block.kind == "table":
            cells = [c.strip() for ln in block.markdown.splitlines() for c in ln.split("|")]
            parts.append(" ".join(c for c in cells if c and not set(c) <= set("-: ")))
        else:
            parts.append(strip_inline(block.markdown.lstrip("# "), keep_code=False))
    return "\n".join(p for p in parts if p)


_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs cf al approx fig no dr mr mrs ms prof st jr sr inc ltd co corp".split()
)
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]*_]*\s+(?=[\"'“‘(\[*_]*[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations (e.g., vs.) and decimals intact."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.start() + 1
        before = text[start:end].rstrip(".").split()
        word = before[-1].lower().strip("(\"'“") if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue  # "e.g. GPT", "J. Smith": not the end of a sentence
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_label(marked: str, sentence: str) -> bool:
    """A line such as "**Mixtral 8x7B** (Mistral AI, 2023)": a heading in all but name.

    It opens in bold and ends without punctuation. A formula ("**a = b + c**") is kept.
    """
    ended = sentence.rstrip("\"”’')]").endswith((".", "!", "?", ":", ";", "…"))
    return marked.lstrip().startswith(("**", "__")) and not ended and "=" not in sentence


@dataclass(frozen=True)
class Sentence:
    """A sentence (or list item) of a passage that may be quoted, with its place in the text."""

    text: str  # verbatim, with emphasis and links stripped; inline code keeps its backticks
    block: int  # which paragraph or list item of the passage it belongs to
    item: bool  # it is (part of) a list item
    lead_in: bool  # it ends with ":" and introduces what follows (never quoted last)
    emphasis: tuple[str, ...]  # the terms the author set in bold or italics in it
    #: For a lead-in followed by a fenced code block ("Here is a complete program:"), that
    #: block's Markdown: the lead-in is quoted with it, never without it.
    code: str = ""


@lru_cache(maxsize=4096)
def candidate_sentences(markdown: str) -> tuple[Sentence, ...]:
    """The prose sentences of a passage, in reading order: never code, tables or headings."""
    found: list[Sentence] = []
    blocks = split_blocks(markdown)
    for index, block in enumerate(blocks):
        if block.kind not in ("text", "item"):
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        code = following.markdown if following is not None and following.kind == "code" else ""
        # Split the Markdown, not the stripped text, to know which words the author stressed.
        for marked in split_sentences(block.markdown):
            sentence = strip_inline(marked)
            if sentence.count("`") % 2:
                continue  # a code span cut in two: not quotable
            if _is_label(marked, sentence):
                continue
            stressed = tuple(strip_inline(m.group(0)) for m in _STRESS_RE.finditer(marked))
            lead_in = sentence.endswith(":")
            found.append(
                Sentence(sentence, index, block.kind == "item", lead_in, stressed,
                         code if lead_in else "")
            )
    return tuple(found)
