"""`tutorbot report` and `tutorbot forget` as an operator runs them, on a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from tests.cli.test_commands import _env


def _tutorbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True,
        env=_env(tmp_path), cwd=tmp_path, timeout=300, check=False,
    )


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k == "id" and v)


def test_report_on_an_empty_database_writes_every_file(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "report", "--out", "out", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "open" in result.stdout and "no answers" in result.stdout
    out = tmp_path / "out"
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "items.csv", "items.json", "feedback.csv", "feedback.json",
            "lessons.csv", "summary.md", "items.png", "funnel.png"} <= names
    page = _Ids()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    assert "empty-note" in page.ids and "items-table" in page.ids
    assert "Traceback" not in result.stderr


def test_report_refuses_a_date_it_cannot_read(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "report", "--out", "out", "--since", "someday")
    assert result.returncode != 0
    assert "not a date" in result.stderr and "Traceback" not in result.stderr


def test_forget_a_stranger_says_there_was_nothing(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "forget", "123456")
    assert result.returncode == 1
    assert "nothing to forget" in result.stdout


def test_forget_removes_the_learners_review_cards(tmp_path: Path) -> None:
    """`tutorbot forget` on the console learner (id 1) after a quiz: no card or log is left."""
    import sqlite3

    # Lesson 1's three questions in a random order: each line answers the one it fits.
    quiz = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input="/quiz 1 3\n" + "a\nt\n175\n" * 3,
        capture_output=True,
        text=True, env=_env(tmp_path), cwd=tmp_path, timeout=300, check=False,
    )
    assert quiz.returncode == 0, quiz.stderr
    database = tmp_path / "data" / "tutorbot.sqlite3"

    def count(table: str) -> int:
        with sqlite3.connect(database) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table} WHERE learner_id = 1")
                       .fetchone()[0])

    assert count("review_card") == count("review_log") == 3
    result = _tutorbot(tmp_path, "forget", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert count("review_card") == count("review_log") == 0
