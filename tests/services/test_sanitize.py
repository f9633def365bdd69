"""The one sanitizer for stored learner text."""

from __future__ import annotations

from bot.services.sanitize import clean_text


def test_control_characters_and_nul_are_removed() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7fe", 100) == "abcde"


def test_newlines_and_tabs_stay_but_blank_runs_fold() -> None:
    assert clean_text("  one\r\ntwo\tthree\n\n\n\n\nfour  ", 100) == "one\ntwo\tthree\n\nfour"


def test_bidi_overrides_are_removed_but_emoji_sequences_survive() -> None:
    family = "👨\u200d👩\u200d👧"
    assert clean_text(f"\u202eevil\u202c {family}", 100) == f"evil {family}"


def test_length_is_capped_without_a_dangling_combining_mark() -> None:
    assert clean_text("x" * 50, 10) == "x" * 10
    # "q" + combining acute has no precomposed form: cutting between them drops both.
    assert clean_text("abcdq\u0301fg", 5) == "abcd"
    assert clean_text(None, 10) == "" and clean_text(" \x00 ", 10) == ""
