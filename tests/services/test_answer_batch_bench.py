"""The answer-burst benchmark runs (``--quick``): none lost or doubled on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lessons"


def test_the_daily_answers_benchmark_runs_quick() -> None:
    args = [sys.executable, str(ROOT / "bench" / "daily_answers.py"), "--quick",
            "--lessons", str(FIXTURES)]
    if os.environ.get("CI", "").lower() == "true":
        args.append("--require-postgres")
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "answers/s" in result.stdout and "OK: none lost or doubled" in result.stdout
    assert "MISMATCH" not in result.stdout
