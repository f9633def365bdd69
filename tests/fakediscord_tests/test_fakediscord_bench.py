"""The latency benchmark still runs (its figures are not asserted: timing belongs to bench/)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "discord_latency.py"


def test_bench_quick_runs_and_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = re.search(r"^bare-ping\s+30(\s+\d+\.\d+){5}", result.stdout, re.MULTILINE)
    assert figures, result.stdout
    for scenario in ("lesson", "quiz-click"):
        assert re.search(rf"^{scenario}\s+(30\s|skipped)", result.stdout, re.MULTILINE), (
            result.stdout
        )
