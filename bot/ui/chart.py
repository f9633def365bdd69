"""The /progress chart: reading and quiz accuracy per lesson, and reviews due ahead, as a PNG.

Rendered with matplotlib's Agg canvas on a :class:`~matplotlib.figure.Figure` of its own (never
``pyplot``, whose global state is not thread-safe), so callers can render it in a worker thread
with :func:`asyncio.to_thread` while the event loop keeps serving other learners.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.ui.text import one_line, truncate

FILENAME = "progress.png"
_READ_COLOUR = "#5865F2"  # Discord blurple
_QUIZ_COLOUR = "#57F287"
_DUE_COLOUR = "#FEE75C"
_LABEL_CHARS = 34


@dataclass(frozen=True)
class ChartRow:
    """One lesson on the chart."""

    label: str
    read_share: float  # 0..1 of the lesson's snippets read
    accuracy: float | None  # 0..1 of quiz answers right, None with no answers


def _plain(text: str, limit: int) -> str:
    """Text matplotlib shows literally: one line, cut, and ``$`` escaped (no mathtext)."""
    return truncate(one_line(text), limit).replace("$", r"\$")


def render_progress_chart(
    title: str, rows: Sequence[ChartRow], due_per_day: Sequence[tuple[str, int]] = ()
) -> bytes:
    """A horizontal bar chart of reading and accuracy per lesson, as PNG bytes.

    With ``due_per_day`` (a label and a count per day, today first) a second panel below shows
    the reviews due on each day ahead.
    """
    count = max(len(rows), 1)
    reviews_height = 2.2 if due_per_day else 0.0
    figure = Figure(figsize=(8.0, 1.4 + 0.42 * count + reviews_height), dpi=100)
    FigureCanvasAgg(figure)
    if due_per_day:
        grid = figure.add_gridspec(2, 1, height_ratios=[0.42 * count + 1.0, reviews_height])
        axes = figure.add_subplot(grid[0])
        _reviews_panel(figure.add_subplot(grid[1]), due_per_day)
    else:
        axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(rows)))
    height = 0.38
    read = [100 * min(max(row.read_share, 0.0), 1.0) for row in rows]
    accuracy = [100 * (row.accuracy or 0.0) for row in rows]
    axes.barh([p - height / 2 for p in positions], read, height, color=_READ_COLOUR, label="read")
    axes.barh(
        [p + height / 2 for p in positions],
        accuracy,
        height,
        color=_QUIZ_COLOUR,
        label="quiz accuracy",
    )
    for position, row in zip(positions, rows, strict=True):
        if row.accuracy is None:
            axes.text(
                1, position + height / 2, "no answers yet", va="center", fontsize=7, color="#666666"
            )
    axes.set_yticks(positions, [_plain(row.label, _LABEL_CHARS) for row in rows], fontsize=8)
    axes.invert_yaxis()  # lesson 1 at the top, as in /course
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    figure.suptitle(_plain(title, 80), fontsize=11)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _reviews_panel(axes: Any, due_per_day: Sequence[tuple[str, int]]) -> None:
    """Reviews due per day ahead, as columns with their count on top."""
    positions = list(range(len(due_per_day)))
    counts = [max(count, 0) for _, count in due_per_day]
    bars = axes.bar(positions, counts, 0.7, color=_DUE_COLOUR)
    axes.bar_label(bars, [str(c) if c else "" for c in counts], fontsize=7)
    axes.set_xticks(positions, [_plain(label, 8) for label, _ in due_per_day], fontsize=7)
    axes.set_ylim(0, max([*counts, 1]) * 1.25)
    axes.set_yticks([])
    axes.set_title("reviews due, next 14 days", fontsize=9)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
