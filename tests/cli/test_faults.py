"""Faults an operator meets at start: one clear line on standard error, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"


def _tutorbot(tmp_path: Path, *args: str, stdin: str = "",
              config: bytes = b"", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    (tmp_path / "c.toml").write_bytes(config)
    env.update(TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
               TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES), TUTORBOT_CONFIG=str(tmp_path / "c.toml"))
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        env=env, cwd=tmp_path, timeout=120, check=False,
    )


def _one_clear_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 78, result.stderr  # configuration
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("tutorbot: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_database_echo_goes_to_standard_error(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "console", stdin="/progress\n",
                       TUTORBOT_DATABASE__ECHO="true")
    assert result.returncode == 0, result.stderr
    assert "SELECT" in result.stderr and "BEGIN" in result.stderr
    assert "SELECT" not in result.stdout and "sqlalchemy" not in result.stdout
    assert "Answers: " in result.stdout  # the console's own output is still there


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "console", config='[console]\nname = "Zoë"\n'.encode("latin-1"))
    _one_clear_line(result, "not UTF-8 text")


def test_a_database_url_with_a_non_numeric_port(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "console",
                       TUTORBOT_DATABASE__URL="postgresql://u:pw-secret@127.0.0.1:54x2/db")
    _one_clear_line(result, "database.url", "non-numeric port")
    assert "pw-secret" not in result.stderr


def test_a_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    result = _tutorbot(tmp_path, "console",
                       TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "blocker" / "data"))
    _one_clear_line(result, "Cannot write to the folder", "paths.data_dir")


def test_an_unwritable_cache_folder_fails_before_any_embedding(tmp_path: Path) -> None:
    (tmp_path / "data" / "cache").mkdir(parents=True)
    (tmp_path / "data" / "cache" / "ask").write_text("in the way")
    result = _tutorbot(tmp_path, "ask", "what is a token?")
    _one_clear_line(result, "Cannot write to the folder", "cache/ask")


def test_an_infinite_timeout_is_refused(tmp_path: Path) -> None:
    result = _tutorbot(tmp_path, "ask", "what is a token?", TUTORBOT_ASK__TIMEOUT_S="1e999")
    _one_clear_line(result, "ask.timeout_s", "finite")


def test_the_console_survives_hostile_input(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
               TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES), TUTORBOT_CONFIG="")
    lines = [
        "/quiz 1 ²".encode(),  # isdigit() says yes, int() says no
        "/quiz fx-nn ①".encode(),
        "/quiz fx-nn ٣".encode(),  # an Arabic-Indic three: a digit, but not one we count with
        b"/quiz 1 0", b"/quiz 1 99999999999999999999999999",
        b"/lesson \x00\x1b[31m", b"\xff\xfe not UTF-8 \xc3",
        b"/settings timezone Europe/Ber\x00lin",
        b"/progress",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=b"\n".join(lines) + b"\n",
        capture_output=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in err and "went wrong" not in out, out + err
    assert out.count("I can't find a lesson called") >= 3  # "1 ²", "fx-nn ①", "fx-nn ٣"
    assert "between 1 and 20" in out or "1 to 20" in out, out
    assert "Your time zone is now Europe/Berlin." in out
    assert "\x00" not in out and "\x1b" not in out
    assert "Answers: 0" in out  # the session is still alive at the end
