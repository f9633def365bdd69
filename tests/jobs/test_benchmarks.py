"""The daily-posting benchmark runs (``--quick``): through the fake Discord at 50 requests/s."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "lessons"


def test_the_daily_posting_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "daily_posting.py"), "--quick",
         "--lessons", str(FIXTURES)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posted exactly once    OK" in result.stdout
    assert "429s received          0" in result.stdout
