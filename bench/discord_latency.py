"""Interaction-to-content latency of a discord.py bot over the loopback fake Discord.

One interaction at a time: the fake dispatches INTERACTION_CREATE on the gateway socket and
the clock stops when the bot's content reaches the fake (a type 4 response, a type 7 update,
or the followup/edit after a defer). Figures are per scenario: p50, p90, p99, max, mean.

    .venv/bin/python bench/discord_latency.py            # 500 interactions per scenario
    .venv/bin/python bench/discord_latency.py --quick    # 30, a smoke test
    .venv/bin/python bench/discord_latency.py --check    # exit 1 if a target is missed

Scenarios: ``bare-ping`` (a bare discord.py ``/ping``: the floor), and the tutorbot's
``lesson`` and ``quiz-click``, which run once ``bot.bot.create_bot(app_context)``
exists and ``tutorbot_client()`` below builds it (until then they are reported as skipped).
Targets for the tutorbot scenarios: p99 <= 25 ms and p50 <= 5 x the bare p50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

import discord
from discord.ext import commands

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tests.fakediscord`` importable
    sys.path.insert(0, str(ROOT))

from tests.fakediscord import FakeDiscord, Interaction, run_client  # noqa: E402

P99_TARGET_MS = 25.0
P50_FACTOR_TARGET = 5.0


class ScenarioUnavailableError(Exception):
    """The scenario cannot run yet (the code it measures does not exist)."""


@dataclass
class Figures:
    """Latency figures of one scenario, in milliseconds."""

    scenario: str
    n: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def summarise(name: str, seconds: list[float]) -> Figures:
    """p50/p90/p99/max/mean in ms."""
    ms = sorted(s * 1000 for s in seconds)
    return Figures(
        name,
        len(ms),
        percentile(ms, 0.50),
        percentile(ms, 0.90),
        percentile(ms, 0.99),
        ms[-1],
        statistics.fmean(ms),
    )


# A scenario builds its client against the fake (and tears down what it needed after) and
# measures one interaction per call.
ClientFactory = Callable[[FakeDiscord], AbstractAsyncContextManager[discord.Client]]
Measure = Callable[[FakeDiscord], Awaitable[float]]


@dataclass
class Scenario:
    """A client to run and one measured interaction."""

    name: str
    build: ClientFactory
    measure: Measure
    #: Tutorbot scenarios are held to the targets; the bare one is the reference.
    has_targets: bool


def _latency(interaction: Interaction) -> float:
    latency = interaction.latency()
    assert latency is not None
    return latency


# ---------------------------------------------------------------------------- bare /ping


@contextlib.asynccontextmanager
async def bare_ping_client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """A bare discord.py bot answering ``/ping`` with "pong" (an AutoShardedBot, as tutorbot)."""
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.05,
        allowed_mentions=discord.AllowedMentions.none(),
    )

    @bot.tree.command()
    async def ping(interaction: discord.Interaction) -> None:
        """Check the bot is alive."""
        await interaction.response.send_message("pong")

    async def sync() -> None:
        await bot.tree.sync()

    bot.setup_hook = sync  # type: ignore[method-assign]
    yield bot


async def measure_ping(fake: FakeDiscord) -> float:
    """One ``/ping``."""
    interaction = await fake.slash(fake.user("alice"), "ping")
    await interaction.response()
    return _latency(interaction)


# ---------------------------------------------------------------------------- tutorbot


@contextlib.asynccontextmanager
async def tutorbot_client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """The real tutorbot (``bot.bot.create_bot``) over a fresh SQLite database.

    The settings point it at the fake; ``/ask`` uses the local engine so no network is involved.
    """
    try:
        from bot.app import build_app
        from bot.bot import create_bot
        from bot.settings import Settings
    except ImportError as exc:
        raise ScenarioUnavailableError(f"the tutorbot cannot be imported: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="tutorbot-bench-") as data_dir:
        settings = Settings.model_validate(
            {
                "discord": {"api_base": fake.api_base, "gateway_url": fake.gateway_url},
                "paths": {"data_dir": data_dir},
                "ask": {"engine": "local"},
            }
        )
        # The bot warms the /ask model when it starts. Load it (from a cache kept between
        # runs) before measuring, so embedding the course in a thread does not share the CPU
        # with the interactions being timed.
        cache = ROOT / "data" / "bench-cache"
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copytree(cache, Path(data_dir) / "cache", dirs_exist_ok=True)
        app = await build_app(settings)
        try:
            await app.tutor()
            shutil.copytree(Path(data_dir) / "cache", cache, dirs_exist_ok=True)
            yield create_bot(app, guild_ready_timeout=0.05)
        finally:
            await app.close()


async def measure_lesson(fake: FakeDiscord) -> float:
    """One ``/lesson`` opening the first lesson."""
    interaction = await fake.slash(fake.user("alice"), "lesson", {"name": "1"})
    await interaction.response()
    return _latency(interaction)


async def measure_quiz_click(fake: FakeDiscord) -> float:
    """One click on a quiz answer button (the ``/quiz`` showing the question is not timed).

    Questions come in random order and numeric ones have no answer buttons (they open a
    modal), so ``/quiz`` is asked again until a question with answer buttons comes up.
    """
    alice = fake.user("alice")
    for _ in range(20):
        question = await (await fake.slash(alice, "quiz", {"questions": 1})).response()
        answers = [
            b for b in question.buttons if str(b.get("custom_id", "")).startswith(ANSWER_PREFIX)
        ]
        if answers:
            click = await fake.click(question, answers[0]["custom_id"], user=alice)
            await click.response()
            return _latency(click)
    raise ScenarioUnavailableError("no /quiz question with answer buttons in 20 tries")


#: The custom id prefix of the tutorbot's quiz answer buttons (``bot.ui.custom_ids.Answer``).
ANSWER_PREFIX = "tb1:qa:"


SCENARIOS = {
    "bare-ping": Scenario("bare-ping", bare_ping_client, measure_ping, has_targets=False),
    "lesson": Scenario("lesson", tutorbot_client, measure_lesson, has_targets=True),
    "quiz-click": Scenario("quiz-click", tutorbot_client, measure_quiz_click, has_targets=True),
}


# ---------------------------------------------------------------------------- running


async def run_scenario(scenario: Scenario, count: int, warmup: int) -> Figures:
    """Start a fake and the scenario's client, warm up, then time ``count`` interactions."""
    async with (
        FakeDiscord.classroom() as fake,
        scenario.build(fake) as client,
        run_client(fake, client),
    ):
        for _ in range(warmup):
            await scenario.measure(fake)
        gc.collect()
        samples = [await scenario.measure(fake) for _ in range(count)]
        fake.assert_no_rejections()
    return summarise(scenario.name, samples)


def verdicts(figures: Figures, bare: Figures | None) -> list[tuple[str, bool]]:
    """The targets of a tutorbot scenario, each with whether it is met."""
    checks = [(f"p99 {figures.p99:.2f} ms <= {P99_TARGET_MS:g} ms", figures.p99 <= P99_TARGET_MS)]
    if bare is not None:
        limit = P50_FACTOR_TARGET * bare.p50
        checks.append(
            (
                f"p50 {figures.p50:.2f} ms <= {P50_FACTOR_TARGET:g} x bare p50 = {limit:.2f} ms",
                figures.p50 <= limit,
            )
        )
    return checks


async def main_async(args: argparse.Namespace) -> int:
    count = args.n or (30 if args.quick else 500)
    warmup = 5 if args.quick else 50
    print(
        f"discord latency over the loopback fake: {count} interactions per scenario, one at a time"
    )
    # The figures share the machine with whatever else runs; the load says how much.
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(
        f"{'scenario':<12} {'n':>5} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}  (ms)"
    )
    results: dict[str, Figures] = {}
    failed = broken = False
    for name in args.scenario:
        scenario = SCENARIOS[name]
        started = time.perf_counter()
        try:
            figures = await run_scenario(scenario, count, warmup)
        except ScenarioUnavailableError as exc:
            print(f"{name:<12} skipped: {exc}")
            continue
        except Exception as exc:  # report it and go on with the other scenarios
            print(f"{name:<12} FAILED: {type(exc).__name__}: {exc}")
            broken = True
            continue
        results[name] = figures
        print(
            f"{name:<12} {figures.n:>5} {figures.p50:>8.2f} {figures.p90:>8.2f} {figures.p99:>8.2f}"
            f" {figures.max:>8.2f} {figures.mean:>8.2f}  ({time.perf_counter() - started:.1f} s)"
        )
        if scenario.has_targets:
            for text, ok in verdicts(figures, results.get("bare-ping")):
                print(f"{'':<12} target {text}: {'ok' if ok else 'MISSED'}")
                failed |= not ok
    if args.json:
        text = json.dumps({k: asdict(v) for k, v in results.items()}, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, text)
    return 1 if broken or (failed and args.check) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="30 interactions per scenario (smoke test)"
    )
    parser.add_argument("-n", type=int, default=0, help="interactions per scenario (default 500)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    args.scenario = args.scenario or list(SCENARIOS)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
