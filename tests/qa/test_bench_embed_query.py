"""bench/embed_query.py runs (``--quick``) and compares ONNX Runtime with NumPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_quick_mode_runs_every_backend() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "embed_query.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for backend in ("numpy", "onnx"):
        assert f"\n{backend} " in out, out
    assert "vs numpy" in out
    # Same vectors from every backend: a broken graph shows here as a low cosine.
    cosines = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines()
               if line.startswith("lowest cosine")]
    assert len(cosines) == 1 and min(cosines) > 0.99999, out
