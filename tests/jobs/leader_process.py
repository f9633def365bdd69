"""A bot process that only runs the job runner, for the several-processes tests.

``python tests/jobs/leader_process.py DB_URL OUT_FILE`` runs the daily-quiz jobs under the
leadership that fits the database, posting through :class:`FilePublisher`: one JSON line per
message in ``OUT_FILE`` (shared by every process; a nonce already in the file returns its
message, as Discord does). It prints ``LEADER <pid>`` when it takes the lead. With
``HANG_BEFORE_POST`` set, the leader claims posts and then hangs before sending (to be killed
between claim and post).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import Services
from bot.content.loader import load_course
from bot.db.engine import open_database
from bot.jobs.daily import DailyQuizJobs
from bot.jobs.leader import leadership_for
from bot.jobs.runner import JobRunner
from bot.services.daily import PostToSend, Results
from bot.services.schedules import ScheduleView
from bot.settings import Settings

FIXTURE_LESSONS = Path(__file__).resolve().parents[1] / "fixtures" / "lessons"


class FilePublisher:
    """Posts are lines in a shared file; a repeated nonce returns the first message."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lines(self) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    async def post_daily(self, post: PostToSend) -> int:
        if os.environ.get("HANG_BEFORE_POST"):
            print(f"HANGING {post.post_id}", flush=True)
            await asyncio.Event().wait()
        with self.path.open("a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            for line in fh.read().splitlines():
                row = json.loads(line)
                if row["nonce"] == post.nonce:
                    return int(row["message_id"])
            message_id = int(post.post_id) * 1000 + os.getpid() % 1000
            fh.write(json.dumps({"nonce": post.nonce, "post_id": post.post_id,
                                 "message_id": message_id, "pid": os.getpid()}) + "\n")
            fh.flush()
            return message_id

    async def find_daily(self, post: PostToSend) -> int | None:
        for row in self._lines():
            if row["post_id"] == post.post_id:
                return int(row["message_id"])  # type: ignore[call-overload]
        return None

    async def close_daily(self, results: Results) -> None:
        return None

    async def post_results(self, results: Results) -> int:
        return results.post_id

    async def notify_paused(
        self, schedule: ScheduleView, reason: str, notice_channel_id: int | None
    ) -> None:
        return None


async def main(url: str, out: Path) -> None:
    settings = Settings()
    course = load_course(FIXTURE_LESSONS)
    db = await open_database(url)
    services = Services.build(course, settings)
    jobs = DailyQuizJobs(
        db, daily=services.daily, schedules=services.schedules,
        guild_config=services.guild_config, publisher=FilePublisher(out),
        grace=timedelta(hours=2), sync_seconds=0.5,
    )
    runner = JobRunner(leadership_for(url), check_seconds=float(os.environ.get("CHECK_S", "1")))
    runner.add_feature(jobs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await runner.start()
    print(f"STARTED {os.getpid()}", flush=True)
    was_leading = False
    while not stop.is_set():
        if runner.leading and not was_leading:
            print(f"LEADER {os.getpid()}", flush=True)
        was_leading = runner.leading
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)
    await runner.stop()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
