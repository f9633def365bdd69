"""The end-to-end burst benchmark runs (``--quick``): a real bot process, the fake Discord,
every click answered once and every answer stored once (its timing belongs to bench/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_daily_e2e_benchmark_runs_quick() -> None:
    args = [sys.executable, str(ROOT / "bench" / "daily_e2e.py"), "--quick", "--db", "both"]
    if os.environ.get("CI", "").lower() == "true":
        args.append("--require-postgres")
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    assert "OK: none lost or doubled" in result.stdout and "MISMATCH" not in result.stdout
    assert "click -> answer" in result.stdout
