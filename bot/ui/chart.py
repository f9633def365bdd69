"""The /progress chart: reading and quiz accuracy per lesson, as a PNG.

Rendered with matplotlib's Agg canvas on a :class:`~matplotlib.figure.Figure` of its own (never
``pyplot``, whose global state is not thread-safe), so callers can render it in a worker thread
with :func:`asyncio.to_thread` while the event loop keeps serving other learners.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.ui.text import one_line, truncate

FILENAME = "progress.png"
_READ_COLOUR = "#5865F2"  # Discord blurple
_QUIZ_COLOUR = "#57F287"
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


def render_progress_chart(title: str, rows: Sequence[ChartRow]) -> bytes:
    """A horizontal bar chart of reading and accuracy per lesson, as PNG bytes."""
    count = max(len(rows), 1)
    figure = Figure(figsize=(8.0, 1.4 + 0.42 * count), dpi=100)
    FigureCanvasAgg(figure)
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
