"""The command line as a user runs it: help, the console, `run` without a token, db upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
               TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES), TUTORBOT_CONFIG=str(tmp_path / "c.toml"))
    (tmp_path / "c.toml").write_text("")
    env.update(extra)
    return env


def _tutorbot(tmp_path: Path, *args: str, stdin: str = "",
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        env=_env(tmp_path, **env), cwd=tmp_path, timeout=120, check=False,
    )


@pytest.mark.parametrize("command", [[], ["run"], ["console"], ["ask"], ["db"], ["db", "upgrade"],
                                     ["lessons"], ["lessons", "check"], ["lessons", "reload"], ["report"], ["forget"]])
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = _tutorbot(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: tutorbot" in result.stdout


def test_the_console_takes_a_scripted_lesson_and_quiz(tmp_path: Path) -> None:
    script = "\n".join([
        "/course", "/lesson counting parameters", "n", "n", "/quiz fx-nn 3",
        # The questions come in random order; each accepts only its own kind of answer
        # (a number, a letter, t/f) and asks again otherwise, so three rounds answer all three.
        *["10", "a", "t"] * 3,
        "/progress", "/leaderboard", "/lesson no such lesson", "/settings timezone Nowhere/Land",
        "",
    ])
    result = _tutorbot(tmp_path, "console", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Counting parameters" in out and "Lesson 2 - Counting parameters  [3/3]" in out
    assert out.count("Read more: Lesson 2 - Counting parameters") == 3
    assert "Quiz finished: " in out and "/3 right." in out
    assert "Answers: " in out and "Streak: 1 day(s)" in out
    assert "Reviews: " in out  # due today and retention, or how reviews begin
    assert "can't find a lesson" in out
    assert "don't know the time zone" in out
    assert "Traceback" not in out + result.stderr


def test_the_console_keeps_progress_between_runs(tmp_path: Path) -> None:
    _tutorbot(tmp_path, "console", stdin="/lesson 2\nn\n")
    result = _tutorbot(tmp_path, "console", stdin="/lesson\n")
    assert "Lesson 2 - Counting parameters  [2/3]" in result.stdout


def test_run_without_a_token_and_without_a_terminal_explains_and_fails(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "run")
    assert result.returncode == 78  # configuration: a supervisor should not retry
    assert "DISCORD_TOKEN" in result.stderr and "tutorbot console" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_database_url_is_a_clear_start_up_error(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "console",
                       TUTORBOT_DATABASE__URL="postgresql://u:hunter2@127.0.0.1:1/x")
    assert result.returncode == 69  # a dependency unavailable at start: a supervisor retries
    assert "Cannot open the database at postgresql://u:***@127.0.0.1:1/x" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "is at revision" in result.stdout


def test_a_broken_course_stops_start_up_with_file_and_line(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "01-x.md").write_text("---\nid: x\ntitle: X\n---\n")
    result = _tutorbot(tmp_path, "console", TUTORBOT_PATHS__LESSONS_DIR=str(lessons))
    assert result.returncode == 78
    assert "01-x.md:" in result.stderr and "Traceback" not in result.stderr


def test_the_record_answer_benchmark_runs_quick(tmp_path: Path) -> None:
    args = [sys.executable, str(PROJECT_ROOT / "bench" / "record_answer.py"), "--quick",
            "--lessons", str(FIXTURES)]
    if os.environ.get("CI", "").lower() == "true":
        args.append("--require-postgres")
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sustained rate" in result.stdout and "rows check" in result.stdout
    assert "MISMATCH" not in result.stdout
