"""Benchmark of one query's embedding, per backend, in one process: ONNX Runtime against NumPy.

Not a test: it prints figures. Run it from the repository root:

    .venv/bin/python bench/embed_query.py            # all labelled questions, 5 rounds
    .venv/bin/python bench/embed_query.py --quick    # a smoke run of a few seconds

The queries are the labelled learner questions of tests/ask/questions-*.toml (real lengths).
Every backend embeds each query in turn, one after another, so a machine that gets busier
during the run slows all of them alike; the query-vector cache is cleared before every call, so
each time is a real forward pass (tokenizing included). Printed per backend: load time, p50 /
p95 wall-clock and CPU time, and the ratio of its p50 and p95 to NumPy's; then the lowest
cosine between the ONNX and NumPy vectors of the same query (1.0 = the same vectors).

Backends: "numpy" and "onnx" (ONNX Runtime with one thread, the bot's setting; ``--threads 2``
times it with two, in a run of its own: a second ONNX Runtime thread spins between queries and
would slow whatever else this process times, as it would the rest of the bot).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.qa.embedder import Backend, Embedder  # noqa: E402

BACKENDS: tuple[Backend, ...] = ("numpy", "onnx")
WARM_UP = 20


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def questions() -> list[str]:
    """Every labelled question's text (tests/ask/questions-*.toml)."""
    found: list[str] = []
    for path in sorted((ROOT / "tests" / "ask").glob("questions-*.toml")):
        with path.open("rb") as fh:
            found += [q["question"] for q in tomllib.load(fh).get("q", [])]
    return found


def main() -> int:
    """Parse the arguments, time each backend, print the table."""
    parser = argparse.ArgumentParser(description="Time one query's embedding per backend.")
    parser.add_argument("--quick", action="store_true", help="few queries, one round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime's threads")
    args = parser.parse_args()

    texts = questions()
    rounds = args.rounds
    warm_up = WARM_UP
    if args.quick:
        texts, rounds, warm_up = texts[:8], 1, 2
    embedders: dict[str, Embedder] = {}
    load_s: dict[str, float] = {}
    for name in BACKENDS:
        started = time.perf_counter()
        embedders[name] = Embedder.load(backend=name, threads=args.threads)
        load_s[name] = time.perf_counter() - started

    def embed(name: str, text: str) -> tuple[float, float]:
        embedder = embedders[name]
        embedder.forget_queries()
        t, c = time.perf_counter(), time.process_time()
        embedder.embed_query(text)
        return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000

    for text in (texts * warm_up)[:warm_up]:
        for name in embedders:
            embed(name, text)
    wall: dict[str, list[float]] = {name: [] for name in embedders}
    cpu: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(rounds):
        for text in texts:
            for name in embedders:
                w, c = embed(name, text)
                wall[name].append(w)
                cpu[name].append(c)

    runs = len(texts) * rounds
    print(
        f"query embedding, {runs} runs per backend ({len(texts)} questions x {rounds}), "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, ONNX Runtime threads {args.threads}"
    )
    print("backend    load s   p50 ms   p95 ms   CPU p50  CPU p95   p50 / p95 vs numpy")
    base50, base95 = percentile(wall["numpy"], 0.5), percentile(wall["numpy"], 0.95)
    for name in embedders:
        p50, p95 = percentile(wall[name], 0.5), percentile(wall[name], 0.95)
        print(
            f"{name:<9} {load_s[name]:6.2f}  {p50:7.2f}  {p95:7.2f}  "
            f"{percentile(cpu[name], 0.5):7.2f}  {percentile(cpu[name], 0.95):7.2f}   "
            f"{p50 / base50:.2f} / {p95 / base95:.2f}"
        )
    for name in embedders:
        if name != "numpy":
            ours = embedders[name].embed(texts)
            reference = embedders["numpy"].embed(texts)
            print(f"lowest cosine {name} vs numpy over {len(texts)} questions: "
                  f"{float((ours * reference).sum(axis=1).min()):.7f}")
    if args.quick:
        print("(quick run: too few queries for the figures to mean much)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
