"""bench/ask_local.py runs end to end (its figures are for people, not asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
QUESTIONS = """
[[q]]
id = "t1"
question = "how many parameters does a layer with 3 inputs and 5 outputs have"
lesson = "fx-nn"
key_facts = ["20"]
paraphrased = false
split = "report"

[[q]]
id = "t2"
question = "what kind of AI makes new things rather than sorting them"
lesson = "fx-genai"
key_facts = ["Generative AI"]
paraphrased = true
split = "report"

[[q]]
id = "t3"
question = "what is the best banana bread recipe"
lesson = ""
key_facts = []
paraphrased = false
split = "report"
"""


def test_quick_mode_runs(tmp_path: Path) -> None:
    """``--quick`` on the fixture course prints every section and exits 0."""
    questions = tmp_path / "questions-test.toml"
    questions.write_text(QUESTIONS)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "ask_local.py"),
            "--quick",
            "--lessons",
            str(ROOT / "tests" / "fixtures" / "lessons"),
            "--questions",
            str(questions),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("hit@1", "fused", "bm25", "dense", "key fact held", "wrongly declined",
                    "lesson cited first", "mean answer length", "latency", "end to end",
                    "cold start", "all but repeat a phrasing"):
        assert section in out, out
    assert "2 in the course" in out and "1 outside" in out
    assert "targets:" in out
