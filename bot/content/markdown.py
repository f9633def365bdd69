"""Course Markdown as plain text: the one place that strips inline formatting.

The console prints snippets in a terminal and the tutor ranks and quotes passages as prose; both
want the same text without ``**``, ``*``, ``_`` or link syntax, and nothing else changed: line
breaks, code spans and arithmetic such as ``3*5`` stay as they are.
"""

from __future__ import annotations

import re

_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_STRONG_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR_RE = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_EM_UNDER_RE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")


def strip_formatting(markdown: str) -> str:
    """Emphasis dropped and links and images replaced by their text; all else kept as is."""
    text = _IMAGE_RE.sub(r"\1", markdown)
    text = _LINK_RE.sub(r"\1", text)
    for _ in range(2):  # nested emphasis such as ***x***
        text = _STRONG_RE.sub(r"\2", text)
        text = _EM_STAR_RE.sub(r"\1", text)
        text = _EM_UNDER_RE.sub(r"\1", text)
    return text
