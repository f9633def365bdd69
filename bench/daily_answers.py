"""Benchmark: a burst of daily-quiz answers through the batched answer path (issue 9 §7, §9).

Per round, 1,000 learners answer one open post (one task each; 5% click twice): at the same
moment (the worst case: the last click waits for every batch before it), or with
``--spread-ms S`` at uniformly random moments over S ms (as clicks reach a bot). Each answer
goes through :class:`bot.services.answer_batch.AnswerBatcher`, which acknowledges it only after
the batch holding it has committed; latency is measured from the click to that
acknowledgement. Several rounds (one post each) give the rate. Afterwards every post must have
exactly one ``daily_answer`` and one ``quiz_answer`` row per learner: none lost, none doubled.

``--cap 500,100`` and ``--parallel 1,2`` compare batch caps and batches in flight in one
process (each configuration on a fresh database; the first one listed also warms up).

The cost of the memory-card hook (issue 11: each first answer updates the learner's FSRS card in
the same commit) is measured in the same process: rounds alternate between the production
batcher and one whose memory step is switched off, and both rates are printed.

A ceiling in the same run: single-row INSERT + COMMIT through the raw driver (sqlite3 /
asyncpg), the rate a one-transaction-per-click design could never beat.

    .venv/bin/python bench/daily_answers.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/daily_answers.py --db sqlite
    .venv/bin/python bench/daily_answers.py --quick         # a smoke run (seconds)
    .venv/bin/python bench/daily_answers.py --cap 500,250,100 --spread-ms 0,2000

Targets (2-core machine): >= 5,000 answers/s on SQLite, >= 2,000/s on PostgreSQL, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench._scratch import PostgresUnreachableError, scratch_postgres  # noqa: E402
from bot.app import Services  # noqa: E402
from bot.content.loader import load_course  # noqa: E402
from bot.db.engine import open_database  # noqa: E402
from bot.db.models import QuizAnswer, ReviewCard  # noqa: E402
from bot.db.models.daily import DailyAnswer  # noqa: E402
from bot.services.answer_batch import BATCH_CAP, AnswerBatcher  # noqa: E402
from bot.services.memory import CardChange, MemoryModel  # noqa: E402
from bot.settings import Settings  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {"sqlite": 5000.0, "postgres": 2000.0}
GUILD, CHANNEL, MOD = 1, 2, 3


@dataclass
class Result:
    """Figures of one backend."""

    backend: str
    config: str = ""
    answers: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    batches: int = 0
    cpu_seconds: float = 0.0
    ceiling_per_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    # The same bursts with the memory-card step switched off, for its cost.
    plain_answers: int = 0
    plain_seconds: float = 0.0

    @property
    def plain_rate(self) -> float:
        return self.plain_answers / self.plain_seconds if self.plain_seconds else 0.0

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _NoMemory(MemoryModel):
    """The comparison: the batch path with its memory-card step switched off."""

    async def record(self, conn: object, answers: object) -> list[CardChange]:  # type: ignore[override]
        return []


def _sqlite_ceiling(path: Path, count: int) -> float:
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


async def _pg_ceiling(dsn: str, count: int) -> float:
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


async def _run(backend: str, url: str, learners: int, rounds: int, lessons: Path, *,
               cap: int | None = None, parallel: int | None = None,
               spread_ms: float = 0.0) -> Result:
    course = load_course(lessons)
    services = Services.build(course, Settings())
    db = await open_database(url)
    result = Result(backend)
    rng = random.Random(7)
    now = datetime.now(UTC)
    try:
        posts = []
        for day in range(2 * rounds):  # one schedule per round, each posted a minute ago
            async with db.sessions.begin() as session:
                schedule = await services.schedules.add(
                    session, guild_id=GUILD, channel_id=CHANNEL + day, created_by=MOD,
                    local_time="09:00", timezone="Etc/UTC", now=now - timedelta(days=2),
                )
                post = await services.daily.claim(
                    session, schedule.id, now - timedelta(minutes=1), now=now, rng=rng
                )
                assert post is not None
                await services.daily.mark_posted(session, post.post_id, 10_000 + day, now)
            posts.append(post)
        batcher = AnswerBatcher(db, lambda: course, cap=cap or BATCH_CAP,
                                parallel=parallel or 1)
        plain = AnswerBatcher(db, lambda: course, memory=_NoMemory(), cap=batcher.cap,
                              parallel=batcher.parallel)
        result.config = (f"cap {batcher.cap}, {batcher.parallel} in flight, "
                         f"clicks {'at once' if not spread_ms else f'over {spread_ms:g} ms'}")
        # Warm-up: statement caches, connections.
        await batcher.record(posts[0].post_id, 1, posts[0].choices[0].id, display_name="warm")
        await plain.record(posts[1].post_id, 1, posts[1].choices[0].id, display_name="warm")
        for index, post in enumerate(posts):
            # Alternate, so load that changes during the run weighs on both alike.
            measured = batcher if index % 2 == 0 else plain
            clicks = []
            for learner in range(100, 100 + learners):
                choice = rng.choice(post.choices).id
                clicks.append((learner, choice))
                if rng.random() < 0.05:
                    clicks.append((learner, rng.choice(post.choices).id))

            async def click(learner: int, choice: str, post_id: int = post.post_id,
                            measured: AnswerBatcher = measured) -> None:
                if spread_ms:
                    await asyncio.sleep(rng.uniform(0, spread_ms / 1000))
                began = time.perf_counter()
                await measured.record(post_id, learner, choice, display_name=f"m{learner}")
                if measured is batcher:
                    result.latencies_ms.append((time.perf_counter() - began) * 1000)

            batches_before = batcher.batches
            start, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(click(learner, choice) for learner, choice in clicks))
            if measured is batcher:
                result.seconds += time.perf_counter() - start
                result.cpu_seconds += time.process_time() - cpu
                result.answers += len(clicks)
                result.batches += batcher.batches - batches_before
            else:
                result.plain_seconds += time.perf_counter() - start
                result.plain_answers += len(clicks)
        async with db.sessions() as session:
            cards = await session.scalar(select(func.count(func.distinct(ReviewCard.learner_id))))
            if cards != learners + 1:
                result.problems.append(f"{cards} learners have memory cards, expected "
                                       f"{learners + 1}")
            for index, post in enumerate(posts):
                expected = learners + (1 if index < 2 else 0)
                daily = await session.scalar(select(func.count()).select_from(DailyAnswer)
                                             .where(DailyAnswer.post_id == post.post_id))
                quiz = await session.scalar(select(func.count()).select_from(QuizAnswer)
                                            .where(QuizAnswer.daily_post_id == post.post_id))
                if daily != expected or quiz != expected:
                    result.problems.append(
                        f"post {post.post_id}: {daily} daily / {quiz} quiz rows, "
                        f"expected {expected}"
                    )
    finally:
        await db.dispose()
    return result


def _report(result: Result, quick: bool) -> bool:
    print(f"\n== {result.backend}: {result.config} ==")
    print(f"answers acknowledged {result.answers:,} in {result.seconds:.2f} s "
          f"({result.batches} batches)")
    print(f"answers/s            {result.rate:,.0f}"
          f"{' (the clicks arrival rate)' if 'over' in result.config else ''}")
    print(f"CPU per answer       {result.cpu_seconds / max(result.answers, 1) * 1000:.3f} ms "
          "(this process; the machine's load changes it less than the rate)")
    print(f"latency p50 / p99    {result.pct(0.50):.1f} / {result.pct(0.99):.1f} ms "
          f"(max {max(result.latencies_ms):.1f} ms)")
    print(f"raw driver ceiling   {result.ceiling_per_s:,.0f} single-row insert+commit/s")
    if result.plain_rate:
        cost = 1 - result.rate / result.plain_rate
        print(f"memory cards off     {result.plain_rate:,.0f} answers/s, same process, "
              f"alternate rounds (the card update costs {cost:.0%} of the rate)")
    ok = not result.problems
    print(f"rows check           {'OK: none lost or doubled' if ok else 'MISMATCH'}")
    for problem in result.problems:
        print(f"  {problem}")
    if not quick:
        target = TARGETS[result.backend]
        rate_ok, p99_ok = result.rate >= target, result.pct(0.99) <= 50
        print(f"target >= {target:,.0f}/s     "
              f"{'met' if rate_ok else f'MISSED by {target - result.rate:,.0f}/s'}")
        print(f"target p99 <= 50 ms  "
              f"{'met' if p99_ok else f'MISSED by {result.pct(0.99) - 50:.1f} ms'}")
    return ok


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


async def _main_async(args: argparse.Namespace) -> int:
    learners = 200 if args.quick else args.learners
    rounds = 2 if args.quick else args.rounds
    ceiling_n = 300 if args.quick else 5000
    configs = [
        (int(cap) if cap else None, int(parallel) if parallel else None, spread)
        for spread in _numbers(args.spread_ms)
        for cap in (_numbers(args.cap) or [0])
        for parallel in (_numbers(args.parallel) or [0])
    ]
    ok = True
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    summary: list[Result] = []
    for backend in backends:
        for cap, parallel, spread in configs:  # each on a fresh database
            options = {"cap": cap, "parallel": parallel, "spread_ms": spread}
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    result = await _run("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
                                        learners, rounds, args.lessons, **options)
                    result.ceiling_per_s = _sqlite_ceiling(Path(tmp) / "raw.sqlite3",
                                                           ceiling_n)
            else:
                try:
                    async with scratch_postgres(args.pg_url) as url:
                        result = await _run("postgres", url, learners, rounds, args.lessons,
                                            **options)
                        result.ceiling_per_s = await _pg_ceiling(url, ceiling_n)
                except PostgresUnreachableError as exc:
                    print(f"\n== postgres == skipped: {exc}")
                    ok = ok and not args.require_postgres
                    break
            ok = _report(result, args.quick or bool(spread)) and ok
            summary.append(result)
    if len(summary) > 1:
        print("\nbackend    configuration                                 answers/s  p50 ms  p99 ms"
              "  max ms  CPU ms/answer")
        for r in summary:
            print(f"{r.backend:<10} {r.config:<45} {r.rate:>9,.0f} {r.pct(0.5):>7.1f} "
                  f"{r.pct(0.99):>7.1f} {max(r.latencies_ms):>7.1f} "
                  f"{r.cpu_seconds / max(r.answers, 1) * 1000:>14.3f}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--learners", type=int, default=1000, help="answering one post at once")
    parser.add_argument("--rounds", type=int, default=5, help="posts, one burst each")
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--pg-url", default=PG_ADMIN)
    parser.add_argument("--require-postgres", action="store_true",
                        help="fail when PostgreSQL is unreachable (tests in CI)")
    parser.add_argument("--cap", default="", help="answers per batch, e.g. 500,100 "
                        "(default: the batcher's own)")
    parser.add_argument("--parallel", default="", help="batches in flight, e.g. 1,2 "
                        "(default: the batcher's own for the database)")
    parser.add_argument("--spread-ms", default="0", help="clicks at random over this many ms, "
                        "e.g. 0,2000 (0: all at the same moment)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    return asyncio.run(_main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
