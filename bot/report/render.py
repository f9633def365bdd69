"""Write the maintainers' report: one self-contained HTML page plus CSV, JSON, PNG and Markdown.

The page loads nothing from the network: charts are inline PNG (``data:`` URLs), styles and the
table sorter are inline, and every piece of learner text is HTML-escaped (a comment holding
``<script>`` or a link shows as text). CSV cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@`` first) are prefixed with an apostrophe.

Charts are drawn with matplotlib's Agg canvas on figures of their own (never ``pyplot``).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.report.data import ReportData
from bot.services.item_analysis import ItemStat

ITEM_COLUMNS = [
    "question_id", "lesson_id", "kind", "learners", "correct", "facility", "discrimination",
    "discriminating_learners", "upper_lower", "flags", "prompt",
]
FEEDBACK_COLUMNS = [
    "id", "created_at", "guild_id", "kind", "lesson_id", "snippet_id", "question_id", "rating",
    "comment", "ask_question",
]
LESSON_COLUMNS = [
    "lesson_id", "number", "title", "ratings", "mean_rating", "started", "finished", "quizzed",
    "answers", "facility",
]
CHARTS = ("lesson_ratings.png", "funnel.png", "items.png", "ask_engines.png")
_BLURPLE, _GREEN, _RED, _GREY = "#5865F2", "#57F287", "#ED4245", "#99AAB5"


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _csv_safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _plain(text: str) -> str:
    """Text matplotlib shows literally (no mathtext)."""
    return text.replace("$", r"\$")


def item_row(item: ItemStat) -> dict[str, Any]:
    """One row of ``items.csv``."""
    return {
        "question_id": item.question_id,
        "lesson_id": item.lesson_id,
        "kind": item.kind,
        "learners": item.learners,
        "correct": item.correct,
        "facility": item.facility,
        "discrimination": item.discrimination,
        "discriminating_learners": item.discriminating_learners,
        "upper_lower": item.upper_lower,
        "flags": " ".join(item.flag_codes),
        "prompt": item.prompt,
    }


def item_json(item: ItemStat) -> dict[str, Any]:
    """One item of ``items.json``, with its choices and the reasons of its flags."""
    row = item_row(item)
    row["flags"] = [{"code": f.code.value, "reason": f.reason} for f in item.flags]
    row["choices"] = [asdict(choice) for choice in item.choices]
    return row


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_safe(row.get(k)) for k in columns})


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(1, 1, 1)


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty_chart(title: str, message: str) -> bytes:
    figure, axes = _figure(7, 2.2)
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555555")
    figure.suptitle(title, fontsize=11)
    return _png(figure)


def chart_lesson_ratings(data: ReportData) -> bytes:
    """Mean rating (1–5) per lesson, with how many ratings each mean stands on."""
    rated = [row for row in data.lessons if row.mean_rating is not None]
    title = "Lesson ratings (1–5)"
    if not rated:
        return _empty_chart(title, "No lesson ratings yet")
    figure, axes = _figure(8, 1.2 + 0.35 * len(rated))
    labels = [_plain(f"{row.number}. {row.title}")[:40] for row in rated]
    means = [row.mean_rating or 0.0 for row in rated]
    colours = [_RED if m < 3 else _BLURPLE for m in means]
    axes.barh(range(len(rated)), means, color=colours)
    for i, row in enumerate(rated):
        axes.text((row.mean_rating or 0) + 0.05, i, f"n={row.ratings}", va="center", fontsize=7)
    axes.set_yticks(range(len(rated)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 5.5)
    figure.suptitle(title, fontsize=11)
    return _png(figure)


def chart_funnel(data: ReportData) -> bytes:
    """Per lesson: learners who started reading, finished, and answered its quiz."""
    title = "Completion funnel: learners per lesson"
    if not any(row.started or row.finished or row.quizzed for row in data.lessons):
        return _empty_chart(title, "Nobody has read a lesson yet")
    rows = data.lessons
    figure, axes = _figure(8, 1.4 + 0.42 * len(rows))
    height = 0.26
    for offset, (label, colour, values) in enumerate(
        [
            ("started", _BLURPLE, [r.started for r in rows]),
            ("finished", _GREEN, [r.finished for r in rows]),
            ("quizzed", _GREY, [r.quizzed for r in rows]),
        ]
    ):
        axes.barh([i + (offset - 1) * height for i in range(len(rows))], values, height,
                  color=colour, label=label)
    axes.set_yticks(range(len(rows)), [_plain(f"{r.number}. {r.title}")[:40] for r in rows],
                    fontsize=8)
    axes.invert_yaxis()
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    figure.suptitle(title, fontsize=11)
    return _png(figure)


def chart_items(data: ReportData) -> bytes:
    """Facility against discrimination; flagged questions in red, thresholds drawn."""
    title = "Questions: facility vs discrimination"
    points = [i for i in data.items if i.facility is not None and i.discrimination is not None]
    if not points:
        return _empty_chart(title, "Not enough answers to compute discrimination yet")
    figure, axes = _figure(7, 4.5)
    flagged = {i.question_id for i in data.flagged}
    for group, colour in ((False, _BLURPLE), (True, _RED)):
        chosen = [i for i in points if (i.question_id in flagged) is group]
        axes.scatter([i.facility for i in chosen], [i.discrimination for i in chosen],
                     color=colour, s=18, label="flagged" if group else "fine")
    for item in points:
        if item.question_id in flagged:
            axes.annotate(item.question_id, (item.facility or 0, item.discrimination or 0),
                          fontsize=6, xytext=(3, 3), textcoords="offset points")
    axes.axhline(0.20, color=_GREY, linestyle="--", linewidth=0.8)
    axes.axhline(0.0, color=_RED, linestyle=":", linewidth=0.8)
    axes.axvline(0.30, color=_GREY, linestyle="--", linewidth=0.8)
    axes.axvline(0.90, color=_GREY, linestyle="--", linewidth=0.8)
    axes.set_xlim(0, 1.02)
    axes.set_ylim(-1.02, 1.02)
    axes.set_xlabel("facility (share correct)")
    axes.set_ylabel("discrimination (point-biserial)")
    axes.legend(fontsize=8)
    figure.suptitle(title, fontsize=11)
    return _png(figure)


def chart_ask(data: ReportData) -> bytes:
    """/ask questions per day, stacked by engine and fallback reason."""
    title = "/ask questions per day, by engine and fallback reason"
    if not data.ask_by_day:
        return _empty_chart(title, "No /ask questions yet")
    days = list(data.ask_by_day)
    labels = sorted({label for counts in data.ask_by_day.values() for label in counts})
    figure, axes = _figure(8, 3.6)
    bottom = [0] * len(days)
    for label in labels:
        values = [data.ask_by_day[day].get(label, 0) for day in days]
        axes.bar(days, values, bottom=bottom, label=_plain(label))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes.legend(fontsize=7)
    figure.suptitle(title, fontsize=11)
    return _png(figure)


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:13px}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f4f8;cursor:pointer;user-select:none}th:after{content:" \\2195";color:#aaa}
td.n{text-align:right;font-variant-numeric:tabular-nums}.flag{color:#b3261e;font-weight:600}
.empty{color:#666;font-style:italic}img{max-width:100%}nav a{margin-right:.8rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#f3f4f8;padding:.6rem 1rem;border-radius:6px}
.card b{display:block;font-size:1.4rem}
"""

# Click a header to sort by that column; numbers sort as numbers. Inline: nothing is fetched.
_SORTER = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v || a.cells[col].textContent;
        var y = b.cells[col].dataset.v || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
        return dir * x.localeCompare(y);
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""


def _table(
    table_id: str, headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str
) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{html.escape(empty)}</p>' + (
            f'<table class="sortable" id="{table_id}"><thead><tr>'
            + "".join(f"<th>{html.escape(h)}</th>" for h in headers)
            + "</tr></thead><tbody></tbody></table>"
        )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<td class="n" data-v="{value}">{html.escape(_fmt(value))}</td>')
            else:
                cells.append(f"<td>{html.escape(_fmt(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _img(name: str, png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img id="chart-{name[:-4]}" alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def render_html(data: ReportData, charts: dict[str, bytes]) -> str:
    """The report page: summary, charts inline, sortable tables, nothing from the network."""
    scope = f"guild {data.guild_id}" if data.guild_id is not None else "all guilds"
    since = f" since {data.since:%Y-%m-%d %H:%M} UTC" if data.since else ""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>tutorbot course report</title><style>{_STYLE}</style></head><body>",
        "<h1>tutorbot course report</h1>",
        f"<p>{html.escape(scope + since)}; generated {data.generated_at:%Y-%m-%d %H:%M} UTC.</p>",
        "<nav><a href='#summary'>Summary</a><a href='#lessons'>Lessons</a>"
        "<a href='#fix'>Questions to fix</a><a href='#items'>Item analysis</a>"
        "<a href='#reported'>Reported</a><a href='#ask'>/ask</a><a href='#feedback'>Feedback</a></nav>",
        "<section id='summary'><h2>Summary</h2>",
    ]
    if data.empty:
        parts.append(
            "<p class='empty' id='empty-note'>Nothing to report yet: no quiz answers, feedback or "
            "/ask questions in this database (or in the filter you gave). The files are written "
            "with their headers so scripts can rely on them.</p>"
        )
    cards = [
        ("learners who answered", data.learners),
        ("questions analysed", len(data.items)),
        ("questions flagged", len(data.flagged)),
        ("feedback items", len(data.feedback)),
        ("/ask questions", data.ask_questions),
        ("/ask not covered", sum(g.size for g in data.unanswered)),
    ]
    parts.append(
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{v}</b>{html.escape(k)}</div>" for k, v in cards)
        + "</div></section>"
    )
    parts.append("<section id='lessons'><h2>Lessons</h2>")
    parts.append(_img("lesson_ratings.png", charts["lesson_ratings.png"], "Lesson ratings"))
    parts.append(_img("funnel.png", charts["funnel.png"], "Completion funnel"))
    parts.append(
        _table(
            "lessons-table",
            ["#", "lesson", "ratings", "mean rating", "started", "finished", "quizzed",
             "answers", "facility"],
            [
                (r.number, r.title, r.ratings, r.mean_rating, r.started, r.finished, r.quizzed,
                 r.answers, r.facility)
                for r in data.lessons
            ],
            "No lessons.",
        )
        + "</section>"
    )
    parts.append(
        "<section id='fix'><h2>Questions to fix</h2><p>Flags: discrimination below 0.20 "
        "<em>revise</em>; negative <em>check the key</em>; more than 90% right <em>too easy</em>; "
        "fewer than 30% <em>too hard</em>. Questions with fewer than 30 learners are "
        "<em>too few to judge</em> and left out here.</p>"
    )
    parts.append(
        _table(
            "flagged-table",
            ["question", "lesson", "learners", "facility", "discrimination", "why", "prompt"],
            [
                (i.question_id, i.lesson_id, i.learners, i.facility, i.discrimination,
                 "; ".join(f.reason for f in i.flags), i.prompt)
                for i in data.flagged
            ],
            "No question is flagged.",
        )
        + "</section>"
    )
    parts.append("<section id='items'><h2>Item analysis</h2>")
    parts.append(_img("items.png", charts["items.png"], "Facility against discrimination"))
    parts.append(
        _table(
            "items-table",
            ["question", "lesson", "kind", "learners", "facility", "discrimination",
             "upper–lower 27%", "flags", "prompt"],
            [
                (i.question_id, i.lesson_id, i.kind, i.learners, i.facility, i.discrimination,
                 i.upper_lower, " ".join(i.flag_codes), i.prompt)
                for i in data.items
            ],
            "No quiz answers yet.",
        )
    )
    choice_rows = [
        (i.question_id, c.choice_id + (" (key)" if c.is_key else ""), c.picked, c.share,
         c.point_biserial, c.text)
        for i in data.items
        for c in i.choices
    ]
    parts.append("<h3>Choices</h3><p>A distractor nobody picks does no work; one with a "
                 "positive point-biserial attracts the stronger learners (check the key or the "
                 "wording).</p>")
    parts.append(
        _table("choices-table", ["question", "choice", "picked", "share", "point-biserial",
                                 "text"], choice_rows, "No choices picked yet.")
    )
    parts.append("<h3>Daily quiz posts</h3><p>Answers to public daily posts, analysed apart: "
                 "members can see others discuss the answer before they click.</p>")
    parts.append(
        _table(
            "daily-items-table",
            ["question", "lesson", "learners", "facility", "discrimination", "flags", "prompt"],
            [
                (i.question_id, i.lesson_id, i.learners, i.facility, i.discrimination,
                 " ".join(i.flag_codes), i.prompt)
                for i in data.daily_items
            ],
            "No daily quiz answers yet.",
        )
    )
    missed = sorted(
        (i for i in data.items if i.facility is not None), key=lambda i: (i.facility, i.question_id)
    )[:10]
    parts.append("<h3>Most missed</h3>")
    parts.append(
        _table("missed-table", ["question", "learners", "facility", "prompt"],
               [(i.question_id, i.learners, i.facility, i.prompt) for i in missed],
               "No quiz answers yet.")
        + "</section>"
    )
    parts.append("<section id='reported'><h2>Most reported questions</h2>")
    parts.append(
        _table("reported-table", ["question", "reports", "prompt", "comments"],
               [(r.question_id, r.reports, r.prompt, " | ".join(r.comments))
                for r in data.reported[:20]],
               "No question has been reported.")
        + "</section>"
    )
    parts.append("<section id='ask'><h2>/ask</h2>")
    parts.append(_img("ask_engines.png", charts["ask_engines.png"], "/ask engines over time"))
    parts.append(
        "<h3>Questions the course could not answer</h3><p>Answers that cited no course passage "
        "(declined, or not from the course), grouped by the local embedder "
        "(all-MiniLM-L6-v2): a question joins a group when its cosine similarity to the group's "
        "first question is at least 0.70.</p>"
    )
    parts.append(
        _table("unanswered-table", ["asked", "example", "all questions"],
               [(g.size, g.example, " | ".join(g.questions[:10])) for g in data.unanswered],
               "Every question was answered from the course.")
    )
    parts.append("<h3>Answers rated 👎</h3>")
    parts.append(
        _table("thumbs-table", ["log id", "when", "engine", "question", "answer"],
               [(t.ask_log_id, f"{t.created_at:%Y-%m-%d %H:%M}", t.engine, t.question,
                 t.answer[:400]) for t in data.thumbs_down],
               "No answer was rated 👎.")
        + "</section>"
    )
    parts.append("<section id='feedback'><h2>Feedback</h2>")
    parts.append(
        _table("feedback-table", ["id", "when", "kind", "lesson", "question", "rating",
                                  "comment"],
               [(f.id, f"{f.created_at:%Y-%m-%d %H:%M}", f.kind, f.lesson_id or "",
                 f.question_id or "", f.rating, f.comment or "") for f in data.feedback],
               "No feedback yet.")
        + "</section>"
    )
    parts.append(f"<script>{_SORTER}</script></body></html>")
    return "\n".join(parts)


def render_summary(data: ReportData) -> str:
    """``summary.md``: the headline figures and the flagged questions, for a chat or an issue."""
    lines = ["# tutorbot course report", ""]
    scope = f"guild {data.guild_id}" if data.guild_id is not None else "all guilds"
    lines.append(f"Scope: {scope}" + (f", since {data.since:%Y-%m-%d}" if data.since else ""))
    lines.append("")
    if data.empty:
        lines += ["Nothing to report yet.", ""]
    lines += [
        f"- learners who answered: {data.learners}",
        f"- questions analysed: {len(data.items)}, flagged: {len(data.flagged)}",
        f"- feedback items: {len(data.feedback)}",
        f"- /ask questions: {data.ask_questions}, not covered by the course: "
        f"{sum(g.size for g in data.unanswered)}",
        "",
    ]
    rated = sorted((r for r in data.lessons if r.mean_rating is not None),
                   key=lambda r: r.mean_rating or 0)[:5]
    if rated:
        lines += ["## Lowest-rated lessons", ""]
        lines += [f"- {r.number}. {r.title}: {r.mean_rating:.1f} ({r.ratings} ratings)"
                  for r in rated]
        lines.append("")
    if data.flagged:
        lines += ["## Questions to fix", ""]
        for item in data.flagged:
            reasons = "; ".join(f.reason for f in item.flags)
            lines.append(f"- `{item.question_id}` ({item.learners} learners): {reasons}")
        lines.append("")
    if data.reported:
        lines += ["## Most reported questions", ""]
        lines += [f"- `{r.question_id}`: {r.reports} report(s)" for r in data.reported[:10]]
        lines.append("")
    return "\n".join(lines)


def write_report(
    data: ReportData, out: Path, *, step: Callable[[str], None] | None = None
) -> list[Path]:
    """Write every file of the report into ``out`` (created if needed); returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    tick = step or (lambda _name: None)
    written: list[Path] = []

    charts: dict[str, bytes] = {}
    for name, draw in zip(
        CHARTS, (chart_lesson_ratings, chart_funnel, chart_items, chart_ask), strict=True
    ):
        charts[name] = draw(data)
        (out / name).write_bytes(charts[name])
        written.append(out / name)
        tick(name)

    _write_csv(out / "items.csv", ITEM_COLUMNS, (item_row(i) for i in data.items))
    _write_csv(out / "daily_items.csv", ITEM_COLUMNS, (item_row(i) for i in data.daily_items))
    (out / "items.json").write_text(
        json.dumps([item_json(i) for i in data.items], indent=2), encoding="utf-8"
    )
    feedback = [
        {**asdict(f), "created_at": f.created_at.isoformat()} for f in data.feedback
    ]
    _write_csv(out / "feedback.csv", FEEDBACK_COLUMNS, feedback)
    (out / "feedback.json").write_text(json.dumps(feedback, indent=2, ensure_ascii=False),
                                       encoding="utf-8")
    _write_csv(out / "lessons.csv", LESSON_COLUMNS, (asdict(r) for r in data.lessons))
    written += [out / n for n in ("items.csv", "daily_items.csv", "items.json", "feedback.csv", "feedback.json",
                                  "lessons.csv")]
    tick("tables")

    (out / "summary.md").write_text(render_summary(data), encoding="utf-8")
    (out / "index.html").write_text(render_html(data, charts), encoding="utf-8")
    written += [out / "summary.md", out / "index.html"]
    tick("index.html")
    return written
