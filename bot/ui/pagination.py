"""Splitting long lists into pages that each fit one embed."""

from __future__ import annotations

from collections.abc import Sequence

from bot.ui.limits import EMBED_DESCRIPTION_MAX
from bot.ui.text import truncate


def paginate_lines(
    lines: Sequence[str], *, max_lines: int = 20, max_chars: int = EMBED_DESCRIPTION_MAX
) -> list[str]:
    """Join ``lines`` into pages of at most ``max_lines`` lines and ``max_chars`` characters.

    A line is never split across pages; a single line longer than a page is cut. There is
    always at least one page (an empty one for no lines).
    """
    if max_lines < 1 or max_chars < 1:
        raise ValueError("a page holds at least one line of one character")
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = truncate(raw, max_chars)
        added = len(line) + (1 if current else 0)
        if current and (len(current) >= max_lines or size + added > max_chars):
            pages.append("\n".join(current))
            current, size = [], 0
            added = len(line)
        current.append(line)
        size += added
    pages.append("\n".join(current))
    return pages


def clamp_page(page: int, count: int) -> int:
    """A page index that exists (the last one for an index past the end)."""
    return min(max(page, 0), max(count - 1, 0))
