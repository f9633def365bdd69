"""`tutorbot lessons reload`: validate the lessons folder, then publish its hash for running bots."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from bot.services.reload import CONTENT_HASH_KEY
from tests.cli.test_commands import FIXTURES, _tutorbot


def published(tmp_path: Path) -> str | None:
    with sqlite3.connect(tmp_path / "data" / "tutorbot.sqlite3") as connection:
        row = connection.execute(
            "SELECT value FROM app_state WHERE key = ?", (CONTENT_HASH_KEY,)
        ).fetchone()
    return row[0] if row else None


def test_a_valid_folder_is_published_and_a_broken_one_is_not(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURES, lessons)
    env = {"TUTORBOT_PATHS__LESSONS_DIR": str(lessons)}

    result = _tutorbot(tmp_path, "lessons", "reload", **env)

    assert result.returncode == 0, result.stderr
    assert ": 2 lessons, " in result.stdout
    assert "published." in result.stdout and "reload within 30 s" in result.stdout
    first = published(tmp_path)
    assert first is not None and first[:12] in result.stdout

    quiz = lessons / "02-neural-networks.quiz.toml"
    quiz.write_text(quiz.read_text().replace('answer = "nudge"', 'answer = "push"'))
    broken = _tutorbot(tmp_path, "lessons", "reload", **env)

    assert broken.returncode == 1
    assert "02-neural-networks.quiz.toml:16: question 'fx-nn.q2'" in broken.stdout
    assert "nothing was published" in broken.stderr and "Traceback" not in broken.stderr
    assert published(tmp_path) == first
