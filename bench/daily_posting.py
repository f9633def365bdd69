"""Benchmark: 1,000 daily quizzes due in the same minute, posted through the fake Discord.

The fake Discord (tests/fakediscord) enforces Discord's global limit of 50 requests/s with real
429 answers. Every schedule fires at once through the leader's real path
(:meth:`bot.jobs.daily.DailyQuizJobs.fire`: claim → send with the nonce → mark), each in its
own channel (40 guilds × 25 channels), and the real discord.py client sends the messages. The
runner spaces its sends (``jobs.send_per_second``, 45) so Discord's limit is never hit.

Reported: time to post all (floor 1,000 / 50 = 20 s; target ≤ 25 s), 429s received (target 0),
and that each schedule was posted exactly once.

    .venv/bin/python bench/daily_posting.py
    .venv/bin/python bench/daily_posting.py --quick      # 60 schedules (smoke test)

The message is a plain stand-in for the quiz (the real rendering is the Discord adapter's);
what is measured is the runner's pacing, claims and the REST round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.app import Services  # noqa: E402
from bot.content.loader import load_course  # noqa: E402
from bot.db.engine import open_database  # noqa: E402
from bot.db.models.daily import DailyPost  # noqa: E402
from bot.jobs.daily import DailyQuizJobs  # noqa: E402
from bot.jobs.ports import ChannelGoneError, ForbiddenError, RetryableError  # noqa: E402
from bot.services.daily import PostToSend, Results  # noqa: E402
from bot.services.schedules import ScheduleService, ScheduleView  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.fakediscord.harness import run_client  # noqa: E402

PER_GUILD = 25


class RestPublisher:
    """Posts a stand-in message by channel id through discord.py's REST client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post_daily(self, post: PostToSend) -> int:
        channel = self.client.get_partial_messageable(post.channel_id)
        try:
            message = await channel.send(f"Daily quiz: {post.question.prompt[:200]}",
                                         nonce=post.nonce)
        except discord.NotFound as exc:
            raise ChannelGoneError(str(exc), status=404) from exc
        except discord.Forbidden as exc:
            raise ForbiddenError(str(exc), status=403) from exc
        except discord.HTTPException as exc:
            raise RetryableError(str(exc), status=exc.status) from exc
        return message.id

    async def find_daily(self, post: PostToSend) -> int | None:
        return None

    async def close_daily(self, results: Results) -> None:
        return None

    async def post_results(self, results: Results) -> int:
        return 0

    async def notify_paused(
        self, schedule: ScheduleView, reason: str, notice_channel_id: int | None
    ) -> None:
        return None


async def run(count: int, lessons: Path, rate: float) -> bool:
    course = load_course(lessons)
    settings = Settings()
    services = Services.build(course, settings)
    services.schedules = ScheduleService(course, max_per_guild=PER_GUILD)
    guilds = (count + PER_GUILD - 1) // PER_GUILD
    async with FakeDiscord(global_rate_limit=50) as fake:
        channels: list[tuple[int, int]] = []
        for g in range(guilds):
            names = tuple(f"quiz-{i}" for i in range(min(PER_GUILD, count - g * PER_GUILD)))
            guild = fake.add_guild(f"server {g}", channels=names)
            channels += [(guild.id, c.id) for c in guild.channels.values()]
        client = discord.Client(intents=discord.Intents.none())
        with tempfile.TemporaryDirectory() as tmp:
            db = await open_database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            async with db.sessions.begin() as session:
                ids = [
                    (await services.schedules.add(
                        session, guild_id=guild_id, channel_id=channel_id, created_by=1,
                        local_time=now.strftime("%H:%M"), timezone="Etc/UTC",
                        now=now - timedelta(days=1),
                    )).id
                    for guild_id, channel_id in channels
                ]
            async with run_client(fake, client):
                jobs = DailyQuizJobs(
                    db, daily=services.daily, schedules=services.schedules,
                    guild_config=services.guild_config, publisher=RestPublisher(client),
                    send_per_second=rate,
                )
                before = fake.rate_limited_count
                start = time.perf_counter()
                outcomes = await asyncio.gather(*(jobs.fire(sid, now + timedelta(seconds=1))
                                                  for sid in ids))
                elapsed = time.perf_counter() - start
                limited = fake.rate_limited_count - before
                posted_messages = sum(
                    1 for m in fake.messages.values() if m.content.startswith("Daily quiz:")
                )
            async with db.sessions() as session:
                rows = await session.scalar(
                    select(func.count()).select_from(DailyPost)
                    .where(DailyPost.message_id.is_not(None))
                )
            await db.dispose()
    ok_posts = sum(1 for o in outcomes if o is not None and o.message_id is not None)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"schedules due together {count:,} (sending at most {rate:g}/s; Discord allows 50/s)")
    print(f"time to post all       {elapsed:.1f} s (floor {count / 50:.1f} s)")
    print(f"429s received          {limited}")
    exact = ok_posts == rows == posted_messages == count
    print(f"posted exactly once    {'OK' if exact else 'MISMATCH'} "
          f"({ok_posts} sends, {rows} marked, {posted_messages} messages)")
    if count >= 1000:
        target = 25.0
        print(f"target <= {target:g} s        "
              f"{'met' if elapsed <= target else f'MISSED by {elapsed - target:.1f} s'}")
        print(f"target 0 429s          {'met' if limited == 0 else f'MISSED ({limited})'}")
    return exact and limited == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=Settings().jobs.send_per_second)
    parser.add_argument("--lessons", type=Path, default=ROOT / "lessons")
    parser.add_argument("--quick", action="store_true", help="60 schedules (smoke test)")
    args = parser.parse_args()
    count = 60 if args.quick else args.schedules
    return 0 if asyncio.run(run(count, args.lessons, args.rate)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
