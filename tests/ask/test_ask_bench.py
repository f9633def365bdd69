"""bench/ask_tokens.py runs, says its counts are estimates, and reports against the target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.qa.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[2]


def test_token_bench_quick_run(ask_data_dir: Path, retriever: Retriever) -> None:
    # The fixture course keeps it quick; ``retriever`` has already cached its vectors there.
    done = subprocess.run(
        [sys.executable, "bench/ask_tokens.py", "--quick",
         "--lessons", str(ROOT / "tests" / "fixtures" / "lessons"),
         "--cache-dir", str(ask_data_dir / "cache" / "ask")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "estimate: ceil(characters / 3.5)" in out
    assert "prompt caching:" in out
    result = dict(item.split("=") for item in out.splitlines()[-1].removeprefix("RESULT ").split())
    assert result["estimate"] == "yes" and result["met"] == "yes"
    assert 0 < int(result["mean"]) <= int(result["max"]) <= int(result["target"]) == 3000
