"""Text helpers: cutting to a limit, making user-supplied names safe, progress bars."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import discord

ELLIPSIS = "\u2026"
_WHITESPACE_RE = re.compile(r"\s+")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) and drop control and format characters."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    return _WHITESPACE_RE.sub(" ", visible).strip()


def safe_name(name: str, limit: int = 32, fallback: str = "someone") -> str:
    """A user-supplied name for embeds: one line, Markdown escaped, at most ``limit`` shown."""
    cleaned = truncate(one_line(name), limit) or fallback
    # Escaping adds backslashes that Discord hides; they do not count against what readers see
    # but they do count against Discord's limits, which callers budget for (x2 at worst).
    return discord.utils.escape_markdown(discord.utils.escape_mentions(cleaned))


def progress_bar(fraction: float, width: int = 10) -> str:
    """A bar such as ``▰▰▰▱▱▱▱▱▱▱`` for a share between 0 and 1."""
    share = min(max(fraction, 0.0), 1.0)
    filled = round(share * width)
    return "\u25b0" * filled + "\u25b1" * (width - filled)


def percent(fraction: float | None) -> str:
    """``75%``, or an en dash when there is nothing to measure."""
    return "\u2013" if fraction is None else f"{round(fraction * 100)}%"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 lesson``, ``3 lessons``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def ts(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp (``<t:…:R>`` etc.): every reader sees it in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"
