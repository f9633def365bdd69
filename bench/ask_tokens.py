"""Benchmark: input tokens Claude would be sent per /ask question (target: at most 3,000).

Not a test: it prints figures and whether the target is met. Run it from the repository root:

    .venv/bin/python bench/ask_tokens.py             # every labelled question, the real course
    .venv/bin/python bench/ask_tokens.py --quick     # a few questions: a smoke run

Each labelled question of tests/ask/questions-*.toml goes through the real TutorService and the
real ``anthropic`` client, pointed at the fake Messages API of tests/fakeanthropic on 127.0.0.1,
which captures the exact request body the SDK sends. Its tokens are then **estimated**:
Claude's tokenizer is not public, so the count is characters / 3.5 per text piece plus a small
fixed overhead per block and message (tests/fakeanthropic/tokens.py; the fake reports the same
number as ``usage.input_tokens``). Expect the real count to differ by some tens of percent.
With ``--count-with-api`` and a real ``ANTHROPIC_API_KEY``, each captured request is also
counted exactly by the API's free ``count_tokens`` endpoint.

It also measures a follow-up question in a thread (the longest request: earlier turns are
sent too) and says whether prompt caching applies to the system prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_INPUT_TOKENS = 3000
#: Anthropic's documented minimum cacheable prompt for Haiku-class models (Haiku 4.5: 4,096;
#: Haiku 3.x: 2,048). Shorter marked prefixes are silently not cached.
HAIKU_MIN_CACHEABLE = 4096


def load_questions(paths: list[Path]) -> list[dict[str, Any]]:
    """Every labelled question of the given TOML files."""
    found: list[dict[str, Any]] = []
    for path in paths:
        with path.open("rb") as fh:
            found.extend(tomllib.load(fh).get("q", []))
    return found


def percentile(values: list[int], share: float) -> int:
    """The ``share`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def parts_of(body: dict[str, Any]) -> dict[str, int]:
    """Estimated tokens of the system prompt, the passages, the question and earlier turns."""
    from tests.fakeanthropic.tokens import (
        BLOCK_OVERHEAD,
        MESSAGE_OVERHEAD,
        estimate_input_tokens,
        system_tokens,
    )

    last = body["messages"][-1]["content"]
    passages = sum(
        estimate_input_tokens({"messages": [{"content": [b]}]}) - MESSAGE_OVERHEAD
        for b in last
        if b.get("type") == "search_result"
    )
    question = estimate_input_tokens({"messages": [{"content": [last[-1]]}]}) - MESSAGE_OVERHEAD
    total = estimate_input_tokens(body)
    system = system_tokens(body)
    return {
        "total": total,
        "system": system,
        "passages": passages,
        "question": question,
        "history": total - system - passages - question - MESSAGE_OVERHEAD,
        "overhead_per_block": BLOCK_OVERHEAD,
    }


async def run(args: argparse.Namespace) -> int:
    from bot.content.loader import load_course
    from bot.db.engine import open_database
    from bot.qa.llm import make_client
    from bot.qa.retrieval import Retriever
    from bot.services.tutor import (
        CACHE_READ_WEIGHT,
        CACHE_WRITE_WEIGHT,
        HISTORY_ANSWER_CHARS,
        AskRequest,
        TutorService,
    )
    from bot.settings import load_settings
    from tests.fakeanthropic import METHOD, TEST_API_KEY, FakeMessagesAPI, Reply

    questions = load_questions(sorted((ROOT / "tests" / "ask").glob("questions-*.toml")))
    if args.quick:
        questions = questions[:6]
    if not questions:
        print("no labelled questions found in tests/ask/questions-*.toml", file=sys.stderr)
        return 2
    course = load_course(args.lessons)
    retriever = await asyncio.to_thread(Retriever.load, course, args.cache_dir,
                                        progress=not args.quick)

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text("")
        async with FakeMessagesAPI(default=Reply(parts=["An answer of typical length. " * 12])
                                   ) as fake:
            settings = load_settings(config, environ={
                "TUTORBOT_PATHS__DATA_DIR": tmp,
                "TUTORBOT_PATHS__LESSONS_DIR": str(args.lessons),
                "TUTORBOT_ASK__GUILD_DAILY_TOKEN_BUDGET": "100000000",
                "ANTHROPIC_API_KEY": TEST_API_KEY,
                "ANTHROPIC_BASE_URL": fake.base_url,
            })
            db = await open_database(settings.database_url)
            tutor = TutorService(settings, retriever, make_client(settings))
            try:
                for q in questions:
                    await tutor.ask(db.sessions, AskRequest(1, q["question"], engine="llm"),
                                    rate_limit=False)
                single = [parts_of(r.body) for r in fake.requests]
                # A thread's third question carries the two before it (the most we send),
                # here with answers longer than the HISTORY_ANSWER_CHARS kept of each: the worst case.
                fake.default = Reply(parts=["A long answer that goes on and on. " * 40])
                longest = sorted(questions, key=lambda q: len(q["question"]))[-3:]
                for q in longest:
                    await tutor.ask(
                        db.sessions, AskRequest(1, q["question"], engine="llm", thread_id=1),
                        rate_limit=False,
                    )
                threaded = parts_of(fake.requests[-1].body)
                bodies = [r.body for r in fake.requests]
            finally:
                await tutor.close()
                await db.dispose()

    totals = [p["total"] for p in single]
    over = [q["id"] for q, p in zip(questions, single, strict=True) if p["total"] > args.target]
    print(f"input tokens per question ({METHOD})")
    print(f"  questions: {len(totals)} (course: {len(course.lessons)} lessons, "
          f"{settings.ask.passages} passages per question, model {settings.ask.model})")
    print(f"  total: mean {statistics.mean(totals):.0f}, p50 {percentile(totals, 0.5)}, "
          f"p95 {percentile(totals, 0.95)}, max {max(totals)}")
    for part in ("system", "passages", "question"):
        values = [p[part] for p in single]
        print(f"  {part}: mean {statistics.mean(values):.0f}, max {max(values)}")
    print(f"  follow-up in a thread (2 earlier turns, answers cut to "
          f"{HISTORY_ANSWER_CHARS:,} characters, one passage fewer): "
          f"{threaded['total']} (history {threaded['history']})")
    met = not over and threaded["total"] <= args.target
    print(f"  target <= {args.target}: {'met' if met else 'NOT met'}"
          + (f" (over: {', '.join(over)})" if over else ""))

    system = single[0]["system"]  # the marked (cacheable) prefix: the system block
    same = len({repr(b["system"]) for b in bodies}) == 1
    caches = system >= HAIKU_MIN_CACHEABLE
    print(f"prompt caching: the system prompt (instructions + course outline) is ~{system} "
          f"tokens (estimate), byte-identical in all {len(bodies)} requests: "
          f"{'yes' if same else 'NO'}; a model caches it from ~{HAIKU_MIN_CACHEABLE} tokens "
          f"({'applies' if caches else 'does not apply'} at that minimum; 1,024 for most "
          "Sonnet/Opus models, 4,096 for Haiku 4.5).")
    # Billed weight with a warm cache: the cached prefix at ~0.1x, everything else in full.
    warm = [p["total"] - p["system"] + CACHE_READ_WEIGHT * p["system"] for p in single]
    cold = [p["total"] - p["system"] + CACHE_WRITE_WEIGHT * p["system"] for p in single]
    print(f"  billed-weight input tokens per question if the prefix is cached: warm cache mean "
          f"{statistics.mean(warm):.0f} (max {max(warm):.0f}); the first question of each 5 "
          f"minutes writes the cache: {statistics.mean(cold):.0f}. Without caching: "
          f"{statistics.mean(totals):.0f}.")

    if args.count_with_api:
        await count_with_api(bodies[: len(single)])
    print(f"RESULT mean={statistics.mean(totals):.0f} p95={percentile(totals, 0.95)} "
          f"max={max(totals)} thread={threaded['total']} target={args.target} "
          f"warm={statistics.mean(warm):.0f} system={system} "
          f"met={'yes' if met else 'no'} estimate=yes")
    return 0 if met else 1


async def count_with_api(bodies: list[dict[str, Any]]) -> None:
    """Exact counts from the API's ``count_tokens`` (needs a real key in the environment)."""
    from bot.qa.llm import make_client
    from bot.settings import load_settings

    settings = load_settings()
    client = make_client(settings)
    if client is None:
        print("--count-with-api: ANTHROPIC_API_KEY is not set; skipped", file=sys.stderr)
        return
    counts = []
    try:
        for body in bodies:
            counted = await client.messages.count_tokens(
                model=body["model"], system=body["system"], messages=body["messages"]
            )
            counts.append(counted.input_tokens)
    finally:
        await client.close()
    print(f"exact (count_tokens at {settings.anthropic_base_url or 'api.anthropic.com'}): "
          f"mean {statistics.mean(counts):.0f}, max {max(counts)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="six questions: a smoke run")
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache" / "ask",
                        help="course vector cache (shared with bench/ask_local.py)")
    parser.add_argument("--target", type=int, default=TARGET_INPUT_TOKENS)
    parser.add_argument("--count-with-api", action="store_true",
                        help="also count exactly with the real API (needs ANTHROPIC_API_KEY)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
