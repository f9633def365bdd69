"""Scheduled backups on the job runner: daily at a local time, a missed one caught up, retention.

The backups are real ``VACUUM INTO`` copies of the test's SQLite database; the clock is given,
so "days" pass without waiting. On PostgreSQL the feature only says that pg_dump is the way.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.app import AppContext
from bot.jobs.backups import BackupJobs, backup_name, last_due, scheduled_backups
from bot.jobs.leader import AlwaysLeader
from bot.jobs.runner import JobRunner
from bot.settings import load_settings

#: 2026-12-01 02:00 UTC: 03:00 in Berlin, before a 03:30 backup.
EARLY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def learners_in(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
        return int(connection.execute("SELECT count(*) FROM learner").fetchone()[0])


async def add_learner(app: AppContext, learner_id: int) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner_id, f"learner {learner_id}")


def test_the_last_due_time_is_local_and_never_in_the_future() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert last_due(EARLY, time(3, 30), berlin) == datetime(2026, 11, 30, 3, 30, tzinfo=berlin)
    later = EARLY + timedelta(hours=1)  # 04:00 in Berlin
    assert last_due(later, time(3, 30), berlin) == datetime(2026, 12, 1, 3, 30, tzinfo=berlin)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_daily_backups_catch_up_at_start_and_keep_only_the_newest_they_made(
    app: AppContext, database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    # Files the job did not make are never touched, whatever their names.
    manual = folder / "before-upgrade.sqlite3"
    manual.write_bytes(b"a manual copy")
    notes = folder / "tutorbot-backup-notes.txt"
    notes.write_text("keep me")
    clock = Clock(EARLY)
    jobs = BackupJobs(database_url, folder, at=time(3, 30), zone="Europe/Berlin",
                      keep=2, clock=clock)
    await add_learner(app, 1)

    # No backup yet, and yesterday's 03:30 has passed: the leader makes one as it starts.
    runner = JobRunner(AlwaysLeader(), check_seconds=0.1)
    runner.add_feature(jobs)
    await runner.start()
    try:
        assert await runner.wait_leading(30)
        assert runner.scheduler is not None
        job = runner.scheduler.get_job("backup:daily")
        assert job is not None and str(job.trigger).startswith("cron[")
        assert job.next_run_time.astimezone(UTC) > EARLY  # the next 03:30 Berlin
    finally:
        await runner.stop()
    made = scheduled_backups(folder)
    assert [path.name for _, path in made] == [backup_name(EARLY)]
    assert learners_in(made[0][1]) == 1

    # Three more days, one learner more each day: only the newest two of its own files stay.
    for day in range(1, 4):
        clock.now = EARLY + timedelta(days=day, hours=2)
        await add_learner(app, 1 + day)
        assert await jobs.run() is not None
    kept = scheduled_backups(folder)
    assert [path.name for _, path in kept] == [
        backup_name(EARLY + timedelta(days=2, hours=2)),
        backup_name(EARLY + timedelta(days=3, hours=2)),
    ]
    assert [learners_in(path) for _, path in kept] == [3, 4]
    assert manual.read_bytes() == b"a manual copy" and notes.read_text() == "keep me"

    # A restart after today's backup makes none (nothing was missed).
    again = JobRunner(AlwaysLeader(), check_seconds=0.1)
    again.add_feature(jobs)
    await again.start()
    try:
        assert await again.wait_leading(30)
    finally:
        await again.stop()
    assert len(scheduled_backups(folder)) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_failed_backup_is_logged_and_deletes_nothing(
    app: AppContext, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    jobs = BackupJobs(database_url, folder, at=time(3, 30), keep=1,
                      clock=Clock(EARLY))
    assert await jobs.run() is not None
    # The same second again: the name exists, and an existing file is never overwritten.
    with caplog.at_level(logging.ERROR, logger="bot.jobs.backups"):
        assert await jobs.run() is None
    assert "scheduled backup failed" in caplog.text and "already exists" in caplog.text
    assert len(scheduled_backups(folder)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_on_postgresql_it_says_pg_dump_and_does_nothing(
    app: AppContext, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "backups"
    jobs = BackupJobs(database_url, folder, at=time(3, 30), clock=Clock(EARLY))
    runner = JobRunner(AlwaysLeader(), check_seconds=0.1)
    runner.add_feature(jobs)
    with caplog.at_level(logging.INFO, logger="bot.jobs.backups"):
        await runner.start()
        try:
            assert await runner.wait_leading(30)
            assert runner.scheduler is not None and runner.scheduler.get_job("backup:daily") is None
        finally:
            await runner.stop()
    assert "pg_dump" in caplog.text and not folder.exists()
    assert await jobs.run() is None


def test_the_settings_take_a_daily_time_and_default_to_off(tmp_path: Path) -> None:
    from bot.errors import ConfigError

    (tmp_path / "c.toml").write_text("")
    settings = load_settings(tmp_path / "c.toml", environ={
        "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
    })
    assert settings.backup.schedule == "" and settings.backup_dir == tmp_path / "data" / "backups"
    chosen = load_settings(tmp_path / "c.toml", environ={
        "TUTORBOT_BACKUP__SCHEDULE": "03:30", "TUTORBOT_BACKUP__DIR": str(tmp_path / "b"),
    })
    assert BackupJobs.parse_time(chosen.backup.schedule) == time(3, 30)
    assert chosen.backup_dir == tmp_path / "b"
    with pytest.raises(ConfigError, match="HH:MM"):
        load_settings(tmp_path / "c.toml", environ={"TUTORBOT_BACKUP__SCHEDULE": "3am"})
