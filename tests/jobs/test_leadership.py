"""Leadership: one process runs the jobs; another takes over within a minute of a SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.app import Services
from bot.content.model import Course
from bot.db.engine import open_database
from bot.jobs.leader import FileLockLeadership, PostgresLeadership, leadership_for
from bot.settings import Settings

SCRIPT = Path(__file__).with_name("leader_process.py")
GUILD, CHANNEL, MOD = 5001, 6001, 7001


async def test_on_sqlite_one_process_holds_the_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3.jobs.lock"
    first, second = FileLockLeadership(path), FileLockLeadership(path)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    await first.release()
    assert await second.try_acquire()
    await second.release()
    assert isinstance(leadership_for(f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"),
                      FileLockLeadership)


def _pg_url(make_postgres_database: object) -> str:
    return make_postgres_database()  # type: ignore[operator,no-any-return]


@pytest.mark.postgres
async def test_advisory_lock_is_held_by_one_session_and_lost_with_it(
    make_postgres_database: object,
) -> None:
    url = _pg_url(make_postgres_database)
    first, second = PostgresLeadership(url, key=4242), PostgresLeadership(url, key=4242)
    assert await first.try_acquire()
    assert await first.still_held()
    assert not await second.try_acquire()
    # The leader's session is killed (a partition, a server restart): it steps down...
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'tutorbot-jobs-leader' AND datname = current_database()"
        )
    finally:
        await admin.close()
    assert not await first.still_held()
    # ...and the lock is free for another process.
    assert await second.try_acquire()
    await second.release()
    await first.release()


class Proc:
    """A bot process whose output is collected as it comes (never blocking the test)."""

    def __init__(self, url: str, out: Path, **env: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(SCRIPT), url, str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "CHECK_S": "1", **env},
        )
        assert self.popen.stdout is not None
        self.fd = self.popen.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.output = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def read(self) -> str:
        try:
            while chunk := os.read(self.fd, 65536):
                self.output += chunk.decode(errors="replace")
        except BlockingIOError:
            pass
        return self.output

    def says(self, text: str) -> bool:
        return text in self.read()

    def wait_for(self, text: str, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.says(text):
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()


async def _add_due_schedule(url: str, course: Course, minutes_ago: int) -> int:
    """A schedule whose time passed ``minutes_ago`` minutes ago (in UTC)."""
    db = await open_database(url)
    try:
        now = datetime.now(UTC)
        due = now - timedelta(minutes=minutes_ago)
        async with db.sessions.begin() as session:
            view = await Services.build(course, Settings()).schedules.add(
                session, guild_id=GUILD, channel_id=CHANNEL, created_by=MOD,
                local_time=due.strftime("%H:%M"), timezone="Etc/UTC",
                now=now - timedelta(days=1),
            )
            return view.id
    finally:
        await db.dispose()


def _posts(out: Path) -> list[dict[str, object]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


async def _wait_posts(out: Path, count: int, within: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len(_posts(out)) >= count:
            await asyncio.sleep(1.5)  # and nothing more comes
            return _posts(out)
        await asyncio.sleep(0.1)
    return _posts(out)


def _leader(procs: list[Proc], within: float) -> Proc:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.says(f"LEADER {proc.pid}"):
                return proc
        time.sleep(0.05)
    raise AssertionError("no process took the lead: " + " | ".join(p.read() for p in procs))


@pytest.mark.postgres
async def test_three_processes_post_once_and_survive_the_leader_killed(
    make_postgres_database: object, course: Course, tmp_path: Path
) -> None:
    url = _pg_url(make_postgres_database)
    out = tmp_path / "posts.jsonl"
    first_schedule = await _add_due_schedule(url, course, minutes_ago=2)
    procs = [Proc(url, out) for _ in range(3)]
    try:
        leader = _leader(procs, 60)
        posts = await _wait_posts(out, 1, 30)
        assert [p["post_id"] for p in posts] == [posts[0]["post_id"]]
        assert posts[0]["pid"] == leader.pid

        killed_at = time.monotonic()
        leader.kill()
        others = [p for p in procs if p is not leader]
        second_schedule = await _add_due_schedule(url, course, minutes_ago=1)
        successor = _leader(others, 60)
        assert time.monotonic() - killed_at < 60
        posts = await _wait_posts(out, 2, 30)
        assert len(posts) == 2 and len({p["nonce"] for p in posts}) == 2
        assert posts[1]["pid"] == successor.pid
        assert {first_schedule, second_schedule}  # both schedules posted exactly once
    finally:
        for proc in procs:
            proc.stop()


@pytest.mark.postgres
async def test_sigkill_between_claim_and_post_is_completed_by_the_next_leader(
    make_postgres_database: object, course: Course, tmp_path: Path
) -> None:
    url = _pg_url(make_postgres_database)
    out = tmp_path / "posts.jsonl"
    await _add_due_schedule(url, course, minutes_ago=1)
    hanging = Proc(url, out, HANG_BEFORE_POST="1")
    try:
        assert hanging.wait_for("HANGING", 60), "the first leader never claimed"
        hanging.kill()
        assert _posts(out) == []
        successor = Proc(url, out)
        try:
            assert _leader([successor], 60) is successor
            posts = await _wait_posts(out, 1, 30)
            assert len(posts) == 1 and posts[0]["pid"] == successor.pid
        finally:
            successor.stop()
    finally:
        hanging.stop()


def test_on_sqlite_a_second_process_says_another_runs_the_jobs(
    tmp_path: Path, course: Course
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    out = tmp_path / "posts.jsonl"
    first = Proc(url, out)
    try:
        assert first.wait_for(f"LEADER {first.pid}", 60), first.read()
        second = Proc(url, out)
        try:
            assert second.wait_for("another process runs the scheduled jobs", 30), second.read()
            assert not second.says("LEADER")
        finally:
            second.stop()
    finally:
        first.stop()
