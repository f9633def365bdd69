"""Two `tutorbot run` processes share one bot on PostgreSQL, each with its own shard.

The fake Discord routes each guild's events to shard ``(guild_id >> 22) % shard_count``, as
Discord does. Each process connects only its shard, answers only the guilds on it, and both
write to the one database; exactly one of them runs the scheduled jobs. When one process
stops, its guilds go unanswered while the other's keep working.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.engine import open_database
from bot.db.models.learners import GuildMember
from bot.settings import Settings
from tests.exts.conftest import run
from tests.fakediscord import FakeDiscord, ScenarioError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"
LEADS = "this process now runs the scheduled jobs"


class Process:
    """One `tutorbot run` with its standard error collected line by line."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            status = await self.process.wait()
        await asyncio.wait({self._reader}, timeout=5)
        return status


async def start(fake: FakeDiscord, data_dir: Path, database_url: str, shard: int) -> Process:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(
        DISCORD_TOKEN=fake.token,
        TUTORBOT_CONFIG="",
        TUTORBOT_DATABASE__URL=database_url,
        TUTORBOT_PATHS__DATA_DIR=str(data_dir),
        TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES),
        TUTORBOT_DISCORD__API_BASE=fake.api_base,
        TUTORBOT_DISCORD__GATEWAY_URL=fake.gateway_url,
        TUTORBOT_ASK__ENGINE="local",
        TUTORBOT_JOBS__LEADER_CHECK_SECONDS="1",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--shard-count", "2", "--shard-ids", str(shard),
        env=env, cwd=data_dir.parent, stderr=asyncio.subprocess.PIPE,
    )
    return Process(f"shard {shard}", process)


async def wait_for(check, what: str, processes: list[Process], within: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``check()``; start-up of two processes on a loaded machine takes a while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        ended = [p for p in processes if p.process.returncode is not None]
        if ended or loop.time() > deadline:
            logs = "\n".join(f"--- {p.name}:\n{p.log}" for p in processes)
            raise AssertionError(f"gave up waiting for {what}\n{logs}")
        await asyncio.sleep(0.1)


@pytest.mark.postgres
async def test_two_processes_each_answer_only_the_guilds_of_their_shard(
    settings: Settings, tmp_path: Path, make_postgres_database: object
) -> None:
    database_url: str = make_postgres_database()  # type: ignore[operator]
    # The second process gets its own data folder, with the /ask index already built.
    other_data = tmp_path / "data-b"
    shutil.copytree(settings.paths.data_dir / "cache", other_data / "cache")
    async with FakeDiscord(shard_count=2) as fake:
        alice = fake.add_user("alice")
        guilds = [fake.add_guild(f"course {n}", shard=(n, 2)) for n in (0, 1)]
        for guild in guilds:
            fake.add_member(guild, alice)
        processes = [await start(fake, settings.paths.data_dir, database_url, 0),
                     await start(fake, other_data, database_url, 1)]
        try:
            await wait_for(lambda: len(fake.live_sessions()) == 2, "both shards", processes)
            assert sorted(s.shard_id for s in fake.live_sessions()) == [0, 1]
            # Each guild is answered, by the process holding its shard.
            for guild in guilds:
                reply = await run(fake, "alice", "progress", guild=guild)
                assert reply.embeds, reply
            await wait_for(lambda: any(LEADS in p.log for p in processes), "a job leader",
                           processes)
            # Exactly one of them runs the scheduled jobs (PostgreSQL's advisory lock).
            assert sum(LEADS in p.log for p in processes) == 1
            # Both wrote to the one database: alice is a member of both guilds there.
            db = await open_database(database_url, upgrade=False)
            try:
                async with db.sessions() as session:
                    members = await session.scalar(
                        select(func.count()).select_from(GuildMember)
                        .where(GuildMember.learner_id == alice.id)
                    )
            finally:
                await db.dispose()
            assert members == 2

            # The process of shard 1 stops: its guild goes unanswered, shard 0's does not.
            assert await processes[1].stop() == 0, processes[1].log
            await wait_for(lambda: len(fake.live_sessions()) == 1, "shard 1 gone", processes[:1])
            with pytest.raises(ScenarioError, match="no bot is connected"):
                await fake.slash(alice, "help", guild=guilds[1])
            reply = await run(fake, "alice", "help", guild=guilds[0])
            assert reply.ephemeral and reply.embeds
        finally:
            statuses = [await p.stop() for p in processes]
        assert statuses[0] == 0, processes[0].log
        assert "Traceback" not in processes[0].log + processes[1].log
