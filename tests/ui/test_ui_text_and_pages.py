"""Text helpers and pagination."""

from __future__ import annotations

import pytest

from bot.ui.pagination import clamp_page, paginate_lines
from bot.ui.text import ELLIPSIS, one_line, percent, plural, progress_bar, safe_name, truncate


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("a longer text", 8, "a longe" + ELLIPSIS),
        ("word  ", 3, "wo" + ELLIPSIS),
        ("x", 0, ""),
    ],
)
def test_truncate_cuts_to_the_limit_with_an_ellipsis(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_safe_name_is_one_escaped_line_with_no_mentions() -> None:
    name = safe_name("**Big**\n@everyone\u200b <@123>\x07 " + "x" * 200, limit=32)
    assert "\n" not in name and "\x07" not in name
    assert "\\*\\*Big\\*\\*" in name
    assert "@everyone" not in name  # broken up so it could never read as a mass mention
    assert len(name) <= 2 * 32 + 8


def test_safe_name_of_nothing_visible_falls_back() -> None:
    assert safe_name("\u200b\u200b\n", fallback="someone") == "someone"


def test_one_line_collapses_whitespace() -> None:
    assert one_line(" a \n\t b ") == "a b"


def test_progress_bar_and_percent() -> None:
    assert progress_bar(0.5, 10) == "\u25b0" * 5 + "\u25b1" * 5
    assert progress_bar(2.0, 4) == "\u25b0" * 4
    assert progress_bar(-1.0, 4) == "\u25b1" * 4
    assert percent(None) == "\u2013" and percent(0.756) == "76%"
    assert plural(1, "day") == "1 day" and plural(3, "day") == "3 days"


def test_pages_keep_lines_whole_and_respect_both_limits() -> None:
    lines = [f"line {i} " + "x" * (i % 7) * 10 for i in range(95)]
    pages = paginate_lines(lines, max_lines=20, max_chars=400)
    assert all(len(page) <= 400 and len(page.split("\n")) <= 20 for page in pages)
    assert "\n".join(pages).split("\n") == lines


def test_a_line_longer_than_a_page_is_cut_and_no_lines_give_one_empty_page() -> None:
    assert paginate_lines(["y" * 50], max_chars=10) == ["y" * 9 + ELLIPSIS]
    assert paginate_lines([]) == [""]
    assert clamp_page(7, 3) == 2 and clamp_page(-1, 3) == 0 and clamp_page(0, 0) == 0
