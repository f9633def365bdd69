"""The console shows Markdown emphasis as plain text without touching arithmetic or code."""

from __future__ import annotations

import pytest

from bot.console import plain


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**Generative AI** creates", "Generative AI creates"),
        ("an *emphasised* word and __strong__", "an emphasised word and strong"),
        ("3*5 + 5 = 20 and a * b", "3*5 + 5 = 20 and a * b"),
        ("`x = a*b*c` stays", "`x = a*b*c` stays"),
    ],
)
def test_plain_strips_only_emphasis(markdown: str, text: str) -> None:
    assert plain(markdown) == text
