"""`tutorbot report` on a seeded database (SQLite and PostgreSQL), checked against hand figures."""

from __future__ import annotations

import csv
import json
import random
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.app import AppContext
from bot.cli.report import parse_since
from bot.content.model import QuestionKind
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError
from bot.report.data import gather, group_questions
from bot.report.render import CHARTS, write_report
from bot.services.feedback import FeedbackContext

Q = "fx-genai.q1"
GUILD = 4242
# learner -> (right on Q, choice on Q, how many of the five other questions right)
PLAN = {1: (True, "spam", 5), 2: (True, "spam", 4), 3: (False, "write", 2), 4: (False, "paint", 1)}
HOSTILE = "<script>alert(1)</script> [click](https://evil.example) =SUM(A1)"


async def _seed(app: AppContext) -> None:
    course = app.course
    for learner, (_, choice, others_right) in PLAN.items():
        async with app.db.sessions.begin() as session:
            await app.services.learners.ensure(session, learner, f"L{learner}", guild_id=GUILD)
            view = await app.services.quiz.start(
                session, learner, guild_id=GUILD, lesson_id=None, count=len(course.questions),
                rng=random.Random(learner),
            )
        others = [q for q in course.questions if q != Q]
        for qid in course.questions:
            question = course.questions[qid]
            if qid == Q:
                kwargs: dict[str, object] = {"choice_id": choice}
            else:
                right = others.index(qid) < others_right
                if question.kind is QuestionKind.NUMERIC:
                    assert question.answer_number is not None
                    kwargs = {"value": question.answer_number + (0 if right else 1000)}
                else:
                    wrong = next(c.id for c in question.choices if c.id != question.answer_choice)
                    kwargs = {"choice_id": question.answer_choice if right else wrong}
            async with app.db.sessions.begin() as session:
                await app.services.quiz.record_answer(session, view.attempt_id, learner, qid,
                                                      **kwargs)  # type: ignore[arg-type]
    async with app.db.sessions.begin() as session:
        fb = app.services.feedback
        await fb.record(session, 1, rating=4, context=FeedbackContext(lesson_id="fx-genai",
                                                                      guild_id=GUILD))
        await fb.record(session, 2, rating=2, context=FeedbackContext(lesson_id="fx-genai",
                                                                      guild_id=GUILD))
        await fb.record(session, 3, comment=HOSTILE,
                        context=FeedbackContext(question_id=Q, guild_id=GUILD))
        rows = [
            AskLog(learner_id=1, guild_id=GUILD, question="how do I bake bread", answer="no",
                   engine="local", latency_ms=5, citations=[]),
            AskLog(learner_id=2, guild_id=GUILD, question="how do i bake bread?", answer="no",
                   engine="local", latency_ms=5, citations=[]),
            AskLog(learner_id=3, guild_id=GUILD, question="who won the world cup in 1998",
                   answer="no", engine="llm", fallback_reason=None, latency_ms=5, citations=[]),
            AskLog(learner_id=4, guild_id=GUILD, question="what is a GAN", answer="A GAN is…",
                   engine="local", fallback_reason="no_api_key", latency_ms=5,
                   citations=["fx-genai.intro"]),
        ]
        session.add_all(rows)
        await session.flush()
        await fb.rate_answer(session, 4, rows[3].id, -1, guild_id=GUILD)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.tables: dict[str, int] = {}
        self._table: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for name in ("src", "href", "action", "data"):
            if values.get(name):
                self.urls.append(values[name] or "")
        if tag == "table":
            self._table = values.get("id")
            self.tables[self._table or ""] = 0
        if tag == "tr" and self._table and self.text is not None:
            self.tables[self._table] += 1
        if tag in {"link", "iframe", "object", "embed"}:
            self.urls.append(f"<{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


async def test_report_on_a_seeded_database_matches_hand_figures(
    app: AppContext, tmp_path: Path
) -> None:
    await _seed(app)
    async with app.db.sessions() as session:
        data = await gather(session, app.course, min_answers=4)
    files = write_report(data, tmp_path)
    assert {p.name for p in files} >= {"index.html", "items.csv", "items.json", "feedback.csv",
                                       "feedback.json", "lessons.csv", "summary.md", *CHARTS}

    items = {row["question_id"]: row for row in json.loads((tmp_path / "items.json").read_text())}
    q = items[Q]
    assert (q["learners"], q["correct"], q["facility"]) == (4, 2, 0.5)
    assert q["discrimination"] == pytest.approx(0.948683, abs=1e-6)  # .6 / sqrt(.4)
    assert q["upper_lower"] == pytest.approx(1.0)
    picked = {c["choice_id"]: c["picked"] for c in q["choices"]}
    assert picked == {"spam": 2, "write": 1, "paint": 1}

    lessons = {row["lesson_id"]: row for row in csv.DictReader(
        (tmp_path / "lessons.csv").open(encoding="utf-8"))}
    genai = lessons["fx-genai"]
    assert (genai["ratings"], float(genai["mean_rating"])) == ("2", 3.0)  # (4 + 2) / 2
    assert genai["quizzed"] == "4"
    # Every answer to a fx-genai question: 4 learners x 3 questions.
    assert genai["answers"] == str(4 * sum(1 for q in app.course.questions.values()
                                           if q.lesson_id == "fx-genai"))

    feedback = list(csv.DictReader((tmp_path / "feedback.csv").open(encoding="utf-8")))
    comment = next(row["comment"] for row in feedback if row["kind"] == "question")
    assert comment.startswith("<script>")  # kept as written in CSV (not a formula: no "=")
    assert [r.question_id for r in data.reported] == [Q]
    assert [t.question for t in data.thumbs_down] == ["what is a GAN"]
    assert sum(g.size for g in data.unanswered) == 3  # the three answers citing nothing
    assert data.ask_by_day and sum(sum(c.values()) for c in data.ask_by_day.values()) == 4

    page = _parse(tmp_path / "index.html")
    for chart in CHARTS:
        assert f"chart-{chart[:-4]}" in page.ids
    for table in ("lessons-table", "flagged-table", "items-table", "choices-table",
                  "missed-table", "reported-table", "unanswered-table", "thumbs-table",
                  "feedback-table"):
        assert table in page.tables
    assert page.tables["items-table"] == 1 + len(data.items)
    external = [u for u in page.urls if not (u.startswith("data:image/png;base64,")
                                             or u.startswith("#"))]
    assert external == []
    html_text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html_text  # learner text is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text


async def test_guild_and_since_filters(app: AppContext) -> None:
    await _seed(app)
    async with app.db.sessions() as session:
        other = await gather(session, app.course, guild_id=GUILD + 1)
        future = await gather(session, app.course, since=parse_since("2999-01-01"))
    for data in (other, future):
        assert data.items == [] and data.feedback == [] and data.ask_questions == 0
        assert data.empty


async def test_an_empty_database_gives_headers_and_a_page_that_says_so(
    app: AppContext, tmp_path: Path
) -> None:
    async with app.db.sessions() as session:
        data = await gather(session, app.course)
    write_report(data, tmp_path)
    for name in ("items.csv", "feedback.csv", "lessons.csv"):
        header = (tmp_path / name).read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",")[0] in {"question_id", "id", "lesson_id"}
    assert (tmp_path / "items.csv").read_text(encoding="utf-8").count("\n") == 1
    page = _parse(tmp_path / "index.html")
    assert "empty-note" in page.ids
    assert json.loads((tmp_path / "items.json").read_text()) == []


def test_csv_cells_never_run_as_formulas(tmp_path: Path) -> None:
    from bot.report.render import _write_csv

    _write_csv(tmp_path / "x.csv", ["comment"], [{"comment": "=HYPERLINK(\"x\")"},
                                                  {"comment": "+1"}, {"comment": "fine"}])
    rows = [r["comment"] for r in csv.DictReader((tmp_path / "x.csv").open())]
    assert rows == ["'=HYPERLINK(\"x\")", "'+1", "fine"]


def test_unanswered_questions_group_by_meaning_with_the_local_embedder() -> None:
    from bot.qa.embedder import Embedder

    groups = group_questions(
        ["how do I bake bread", "who won the world cup in 1998", "how do i bake bread?"],
        Embedder.shared().embed,
    )
    assert [(g.size, g.example) for g in groups] == [
        (2, "how do I bake bread"), (1, "who won the world cup in 1998")]


def test_since_accepts_dates_and_durations() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="not a date"):
        parse_since("last tuesday")
