"""``tutorbot ask``: one question, or questions on standard input with one JSON line each."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fakeanthropic import TEST_API_KEY, Reply, Status, ThreadedFake

from bot.cli.ask import add_arguments, main
from bot.qa.retrieval import Retriever
from bot.services.tutor import OFFLINE_LABEL
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "tests" / "fixtures" / "lessons"


@pytest.fixture
def env(
    tmp_path: Path, ask_data_dir: Path, retriever: Retriever
) -> Callable[..., dict[str, str]]:
    """``env(base_url, key=...)``: the environment of a run, with a database of its own.

    The data folder is the run's shared one, whose vector cache ``retriever`` has filled.
    """
    config = tmp_path / "config.toml"
    config.write_text("# empty\n")

    def make(base_url: str | None, key: str | None = TEST_API_KEY) -> dict[str, str]:
        return environ(config, ask_data_dir, tmp_path / "ask.sqlite3", base_url, key)

    return make


def environ(
    config: Path, data_dir: Path, database: Path, base_url: str | None, key: str | None
) -> dict[str, str]:
    env = {
        "TUTORBOT_CONFIG": str(config),
        "TUTORBOT_PATHS__DATA_DIR": str(data_dir),
        "TUTORBOT_DATABASE__URL": f"sqlite+aiosqlite:///{database}",
        "TUTORBOT_PATHS__LESSONS_DIR": str(LESSONS),
        "TUTORBOT_ASK__TIMEOUT_S": "3",
        "TUTORBOT_ASK__STALL_S": "0.5",
    }
    if base_url:
        env["ANTHROPIC_BASE_URL"] = base_url
    if key:
        env["ANTHROPIC_API_KEY"] = key
    return env


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(environ=env)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tutorbot ask")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_one_question_as_json(env: Callable[..., dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    with ThreadedFake() as api:
        api.script(Reply(parts=["A parameter is ", ("a learned number", 0), "."]))
        status = main(settings_for(env(api.base_url)),
                      parse("What is a parameter?", "--json"))
    out = capsys.readouterr().out
    assert status == 0
    [line] = out.splitlines()
    record = json.loads(line)
    assert record["engine"] == "llm" and record["fallback_reason"] is None
    assert record["answer"] == "A parameter is a learned number [1]."
    assert record["citations"][0]["lesson"].startswith("Lesson ")
    assert record["latency_ms"] >= 0 and record["ask_log_id"] == 1 and record["error"] is None


def test_plain_text_answer_lists_sources(
    env: Callable[..., dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(settings_for(env(None, key=None)),
                  parse("How many parameters does a layer with 3 inputs and 5 outputs have?"))
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.startswith(OFFLINE_LABEL)
    assert "\nSources:\n  [1] Lesson " in captured.out
    assert "(local, fallback: no_key;" in captured.err


def test_engine_llm_reports_the_failure(
    env: Callable[..., dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    with ThreadedFake() as api:
        api.script(*[Status(503)] * 3)
        status = main(settings_for(env(api.base_url)),
                      parse("What is a parameter?", "--engine", "llm", "--json"))
    record = json.loads(capsys.readouterr().out)
    assert status == 1
    assert record["answer"] is None and record["engine"] == "llm"
    assert record["fallback_reason"] == "server_error" and "server_error" in record["error"]


def test_help_explains_the_engines() -> None:
    parser = argparse.ArgumentParser(prog="tutorbot ask")
    add_arguments(parser)
    text = parser.format_help()
    assert "Claude only, never the local model" in text and "--jsonl" in text


def test_jsonl_from_stdin_one_object_per_line(env: Callable[..., dict[str, str]]) -> None:
    """The real command in a process of its own: stdout carries only the JSON lines."""
    questions = ["What is a parameter?", "", "x" * 600, "What does a generative model learn?"]
    with ThreadedFake() as api:
        api.script(Reply(parts=[("Numbers the model learns.", 0)]), Status(529), Status(529),
                   Status(529))
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--jsonl"],
            input="\n".join(questions) + "\n", capture_output=True, text=True, env={**os.environ, **env(api.base_url)},
            cwd=ROOT, timeout=120, check=False,
        )
    assert done.returncode == 1, done.stderr  # two lines could not be answered
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in records] == questions
    assert records[0]["engine"] == "llm" and records[0]["answer"] == "Numbers the model learns. [1]"
    assert records[1]["answer"] is None and "Ask a question" in records[1]["error"]
    assert records[2]["answer"] is None and "under 500 characters" in records[2]["error"]
    last = records[3]
    assert last["engine"] == "local" and last["fallback_reason"] == "overloaded"
    assert last["answer"].startswith(OFFLINE_LABEL) and last["citations"]
    assert set(last) >= {"question", "answer", "engine", "fallback_reason", "citations",
                         "latency_ms"}
    assert TEST_API_KEY not in done.stdout + done.stderr


def test_stdin_is_read_line_by_line_in_process(
    env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("What is a parameter?\nWhat is a bias?\nBest pizza in Rome?\n")
    )
    status = main(settings_for(env(None, key=None)), parse("--jsonl"))
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert [r["ask_log_id"] for r in records] == [1, 2, 3]
    # "covered": false when the answer declines as out of course.
    assert [r["covered"] for r in records] == [True, True, False]
