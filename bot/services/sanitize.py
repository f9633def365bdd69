"""The one sanitizer for free text that learners write and the bot stores.

Feedback comments, question reports and resolution notes pass through :func:`clean_text` before
they are stored: NUL and other control characters are removed (PostgreSQL refuses NUL in text,
and control characters can corrupt terminals and CSV files), line endings are normalised, runs
of blank lines are folded, and the length is capped. Rendering (no pings, no live links) is the
adapters' job; this only makes the stored text safe to keep.
"""

from __future__ import annotations

import re
import unicodedata

# Every C0/C1 control character except tab and newline, plus Unicode "format" controls that
# can reorder or hide text (bidi overrides, zero-width joiners are kept: emoji need them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_text(text: str | None, max_chars: int) -> str:
    """``text`` without control characters, trimmed, folded and cut to ``max_chars``.

    Returns ``""`` for ``None`` or text that is only whitespace and control characters. A cut
    never separates a character from its combining marks.
    """
    if not text:
        return ""
    value = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    value = _CONTROL.sub("", value)
    value = _BLANK_RUNS.sub("\n\n", value).strip()
    if len(value) > max_chars:
        cut = max_chars
        # Never keep a base character whose combining marks were cut off.
        while cut > 0 and unicodedata.combining(value[cut]):
            cut -= 1
        value = value[:cut].rstrip()
    return value
