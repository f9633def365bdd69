"""dev/source_overlap.py finds runs of 8+ words a lesson shares with a source, wherever the
punctuation and markup differ, and reports each run once with both places."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "dev" / "source_overlap.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_shared_runs_are_listed_with_both_places(tmp_path: Path) -> None:
    sources, lessons = tmp_path / "src", tmp_path / "lessons"
    sources.mkdir()
    lessons.mkdir()
    (sources / "a.txt").write_text(
        "Intro line.\nThe quick brown fox jumps over the lazy dog near the river bank today.\n"
    )
    (lessons / "01-x.md").write_text(
        "---\nid: x\n---\n\n## T {#x.t}\n\nAs they say, **the quick brown fox** jumps over the "
        "lazy dog, near the river.\nSeven words: quick brown fox jumps over the lazy.\n"
    )
    (lessons / "01-x.quiz.toml").write_text('prompt = "Nothing in common with anything here."\n')
    (lessons / "README.md").write_text("the quick brown fox jumps over the lazy dog near\n")
    result = _run(str(sources), "--lessons", str(lessons))
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        f'{lessons / "01-x.md"}:7: (12 words, a.txt:2) '
        '"the quick brown fox jumps over the lazy dog near the river"'
    ]
    assert _run(str(sources), "--lessons", str(lessons), "-n", "13").returncode == 0


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nope"), "--lessons", str(tmp_path))
    assert result.returncode == 2
    assert "no such folder" in result.stderr
