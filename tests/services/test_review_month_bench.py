"""The spaced-repetition month simulation runs (``--quick``) and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lessons"


def test_the_review_month_simulation_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "review_month.py"), "--quick",
         "--lessons", str(FIXTURES)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 6  # one per simulated day
    assert "predicted retention" in result.stdout and "schedules" in result.stdout
    # Reviews happened, and each answer's schedule is listed with its due date.
    assert " (review) -> +" in result.stdout
