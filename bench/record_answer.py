"""Benchmark: practice-quiz answers, acknowledged after commit, on two paths in one run.

* ``batched`` — what ``/quiz`` and the console run: ``AnswerBatcher.record_practice``, which
  writes the answers that arrive together in one transaction of multi-row statements
  (``bot/services/answer_batch.py``); latency is from the click to the acknowledgement.
* ``single`` — ``QuizService.record_answer`` in its own unit of work (``async with
  sessions.begin()`` → ``record_answer`` → commit), one transaction per answer.

Several learners answer concurrently; 5% of clicks repeat an earlier click (a double click),
which must not add a row. Afterwards the rows are counted and checked for uniqueness.
"CPU per answer" is this process's CPU time over the answers: unlike the rate, it changes
little when other work loads the machine (a loaded machine still slows each CPU-second).

A baseline in the same run: single-row INSERT + COMMIT through the raw driver (sqlite3 /
asyncpg) on the same database settings, so the ratio shows what our layers cost.

    .venv/bin/python bench/record_answer.py                  # SQLite and PostgreSQL, full run
    .venv/bin/python bench/record_answer.py --db sqlite
    .venv/bin/python bench/record_answer.py --path single     # one of the two paths
    .venv/bin/python bench/record_answer.py --quick          # a few seconds (smoke test)

Targets (2-core machine): >= 1,000 answers/s sustained and p99 <= 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench._scratch import PostgresUnreachableError, scratch_postgres  # noqa: E402
from bot.content.loader import load_course  # noqa: E402
from bot.db.engine import open_database  # noqa: E402
from bot.db.models import QuizAnswer  # noqa: E402
from bot.services.answer_batch import AnswerBatcher  # noqa: E402
from bot.services.learners import LearnerService  # noqa: E402
from bot.services.quiz import MAX_QUESTIONS, QuizService  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    """Figures of one run."""

    backend: str
    path: str
    answers: int
    seconds: float
    latencies_ms: list[float]
    baseline_per_s: float
    rows: int
    distinct: int
    expected_rows: int
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.answers / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _sqlite_baseline(path: Path, count: int) -> float:
    """Raw sqlite3: INSERT one row + COMMIT, same pragmas as production."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, v TEXT)")
    start = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_raw (v) VALUES (?)", (f"row {i}",))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


async def _pg_baseline(dsn: str, count: int) -> float:
    """Raw asyncpg: INSERT one row (its own transaction, committed) per call."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, v TEXT)")
        start = time.perf_counter()
        for i in range(count):
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_raw (v) VALUES ($1)", f"row {i}")
        return count / (time.perf_counter() - start)
    finally:
        await conn.close()


async def _run(backend: str, path: str, url: str, answers: int, min_seconds: float,
               workers: int, lessons: Path) -> Result:
    course = load_course(lessons)
    quiz = QuizService(course)
    learners = LearnerService()
    db = await open_database(url)
    rng = random.Random(42)
    per_attempt = min(MAX_QUESTIONS, len(course.questions))
    # Enough attempts for the run (answers may exceed the target while time runs out).
    attempts_needed = int(answers * 3 / per_attempt) + workers
    work: list[tuple[int, int, str, str | None, float | None]] = []
    async with db.sessions.begin() as session:
        for learner in range(1, workers * 4 + 1):
            await learners.ensure(session, learner, f"learner {learner}", guild_id=1)
    for n in range(attempts_needed):
        learner = n % (workers * 4) + 1
        async with db.sessions.begin() as session:
            view = await quiz.start(session, learner, guild_id=1, count=per_attempt, rng=rng)
        attempt = view.attempt_id
        async with db.sessions() as session:
            from bot.db.models import QuizAttempt

            row = await session.get(QuizAttempt, attempt)
            assert row is not None
            for qid in row.question_ids:
                question = course.questions[qid]
                if question.answer_number is not None:
                    work.append((attempt, learner, qid, None, question.answer_number))
                else:
                    choice = rng.choice(question.choices).id
                    work.append((attempt, learner, qid, choice, None))
    # 5% double clicks: the same click again, right after the original.
    stream: list[tuple[int, int, str, str | None, float | None]] = []
    for item in work:
        stream.append(item)
        if rng.random() < 0.05:
            stream.append(item)
    batcher = AnswerBatcher(db, lambda: course)
    latencies: list[float] = []
    done = 0
    position = 0
    stop_at = time.perf_counter() + min_seconds
    start = time.perf_counter()
    cpu_start = time.process_time()

    async def worker() -> None:
        nonlocal done, position
        while position < len(stream) and (done < answers or time.perf_counter() < stop_at):
            attempt, learner, qid, choice, value = stream[position]
            position += 1
            began = time.perf_counter()
            if path == "batched":
                await batcher.record_practice(quiz, attempt, learner, qid, choice_id=choice,
                                              value=value)
            else:
                async with db.sessions.begin() as session:
                    await quiz.record_answer(session, attempt, learner, qid, choice_id=choice,
                                             value=value)
            latencies.append((time.perf_counter() - began) * 1000)
            done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    expected = len({(a, q) for a, _, q, _, _ in stream[:position]})
    async with db.sessions() as session:
        rows = int(await session.scalar(select(func.count()).select_from(QuizAnswer)) or 0)
        distinct_query = select(QuizAnswer.attempt_id, QuizAnswer.question_id).distinct()
        distinct = int(
            await session.scalar(select(func.count()).select_from(distinct_query.subquery()))
            or 0
        )
    await db.dispose()
    return Result(backend, path, done, elapsed, latencies, 0.0, rows, distinct, expected,
                  cpu)


def _report(result: Result, quick: bool) -> bool:
    ratio = result.rate / result.baseline_per_s if result.baseline_per_s else float("nan")
    label = ("batched: what /quiz and the console run" if result.path == "batched"
             else "single: one transaction per answer")
    print(f"\n== {result.backend}, {label} ==")
    print(f"answers recorded     {result.answers:,} in {result.seconds:.1f} s")
    print(f"sustained rate       {result.rate:,.0f} answers/s")
    # CPU time of this process per answer: what the code costs, whatever else runs on the machine
    # (the rate above falls with the machine's load; this figure much less).
    print(f"CPU per answer       {result.cpu_seconds / max(result.answers, 1) * 1000:.3f} ms "
          f"(= {result.answers / result.cpu_seconds if result.cpu_seconds else 0:,.0f} "
          f"answers per CPU-second)")
    print(f"latency p50 / p99    {result.pct(0.50):.2f} / {result.pct(0.99):.2f} ms "
          f"(max {max(result.latencies_ms):.1f} ms, mean {statistics.fmean(result.latencies_ms):.2f})")
    print(f"raw driver baseline  {result.baseline_per_s:,.0f} insert+commit/s "
          f"(this path = {ratio:.2f}x of it)")
    ok_rows = result.rows == result.expected_rows == result.distinct
    print(f"rows check           {result.rows:,} rows, {result.distinct:,} distinct "
          f"(attempt, question), expected {result.expected_rows:,}: "
          f"{'OK' if ok_rows else 'MISMATCH'}")
    if result.backend == "sqlite" and not quick:
        rate_ok = result.rate >= 1000
        p99_ok = result.pct(0.99) <= 50
        print(f"target >= 1,000/s    {'met' if rate_ok else f'MISSED by {1000 - result.rate:,.0f}/s'}")
        print(f"target p99 <= 50 ms  {'met' if p99_ok else f'MISSED by {result.pct(0.99) - 50:.1f} ms'}")
    return ok_rows


async def _main_async(args: argparse.Namespace) -> int:
    answers = 300 if args.quick else args.answers
    min_seconds = 0.5 if args.quick else args.seconds
    baseline_n = 300 if args.quick else 5000
    ok = True
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    paths = ["batched", "single"] if args.path == "both" else [args.path]
    for backend in backends:
        for path in paths:  # each path on a fresh database
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    result = await _run("sqlite", path, f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
                                        answers, min_seconds, args.workers, args.lessons)
                    result.baseline_per_s = _sqlite_baseline(Path(tmp) / "raw.sqlite3",
                                                             baseline_n)
            else:
                try:
                    async with scratch_postgres(args.pg_url) as url:
                        result = await _run("postgres", path, url, answers, min_seconds,
                                            args.workers, args.lessons)
                        result.baseline_per_s = await _pg_baseline(url, baseline_n)
                except PostgresUnreachableError as exc:
                    print(f"\n== postgres == skipped: {exc}")
                    ok = ok and not args.require_postgres
                    break
            ok = _report(result, args.quick) and ok
    return 0 if ok else 1


def main() -> int:
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--path", choices=["batched", "single", "both"], default="both",
                        help="the answer path to measure (both: batched, then single)")
    parser.add_argument("--answers", type=int, default=12_000, help="at least this many answers")
    parser.add_argument("--seconds", type=float, default=10.0, help="and for at least this long")
    parser.add_argument("--workers", type=int, default=8, help="learners answering at once")
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--pg-url", default=PG_ADMIN)
    parser.add_argument("--require-postgres", action="store_true",
                        help="fail when PostgreSQL is unreachable (tests in CI)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    return asyncio.run(_main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
