"""The console as text: Markdown emphasis shown plainly, and the reviews of /progress."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.console import plain, render_reviews
from bot.services.progress import ReviewOutlook


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


def test_reviews_show_due_today_retention_and_the_days_ahead() -> None:
    start = date(2026, 12, 1)
    per_day = tuple((start + timedelta(days=n), [4, 0, 2][n] if n < 3 else 0) for n in range(14))
    lines = render_reviews(ReviewOutlook(cards=9, due_today=4, retention=0.873, per_day=per_day))
    assert lines[0] == "Reviews: 4 due today, predicted retention 87% over 9 question(s)"
    assert lines[2] == "   today #################### 4"
    assert lines[4] == "  Thu 03 ##########           2"
    assert len(lines) == 2 + 14
    assert render_reviews(ReviewOutlook(0, 0, None, per_day)) == [
        "Reviews: none yet (answered questions come back with /review)."
    ]
