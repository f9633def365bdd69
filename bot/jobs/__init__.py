"""Background jobs: a runner that one leader process runs, and the daily-quiz jobs on it.

Wiring (in the Discord adapter, once the bot can reach Discord)::

    runner = build_job_runner(app, publisher)   # publisher: bot.jobs.ports.Publisher
    app.register_worker(runner)                 # started and stopped with the app

Nothing here imports ``discord``; Discord is reached only through the :class:`Publisher` port.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.jobs.daily import DailyQuizJobs, RateLimiter
from bot.jobs.leader import leadership_for
from bot.jobs.maintainers import DigestPoster, MaintainerJobs
from bot.jobs.ports import Publisher
from bot.jobs.reminders import ReminderJobs, ReminderSender
from bot.jobs.runner import JobRunner

if TYPE_CHECKING:
    from bot.app import AppContext


def build_job_runner(
    app: AppContext,
    publisher: Publisher,
    digest_poster: DigestPoster | None = None,
    reminder_sender: ReminderSender | None = None,
) -> JobRunner:
    """The job runner with the daily-quiz jobs, leadership chosen for the app's database.

    With a ``digest_poster`` it also runs the maintainers' weekly digest and /ask log pruning;
    with ``backup.schedule`` set, the daily SQLite backup; with a ``reminder_sender``, the
    review reminders' sweep. Daily posts and reminder DMs share one rate limiter
    (``jobs.send_per_second``, under Discord's global 50 requests/s).
    """
    jobs = app.settings.jobs
    limiter = RateLimiter(jobs.send_per_second)
    runner = JobRunner(
        leadership_for(app.settings.database_url),
        check_seconds=jobs.leader_check_seconds,
        grace_seconds=jobs.grace_minutes * 60,
        enabled=jobs.enabled,
    )
    runner.add_feature(
        DailyQuizJobs(
            app.db,
            services=lambda: app.services,  # read at each use: live reloads reach the jobs
            publisher=publisher,
            grace=timedelta(minutes=jobs.grace_minutes),
            sync_seconds=jobs.sync_seconds,
            send_per_second=jobs.send_per_second,
            limiter=limiter,
            observer=app.observer,
        )
    )
    if digest_poster is not None:
        from bot.services.maintain import MaintainService

        maintainers = app.settings.maintainers
        runner.add_feature(
            MaintainerJobs(
                app.db,
                lambda: MaintainService(app.course),
                digest_poster,
                weekday=maintainers.digest_weekday,
                hour=maintainers.digest_hour,
                retention_days=maintainers.ask_log_retention_days,
                observer=app.observer,
            )
        )
    backup = app.settings.backup
    if backup.schedule:
        from bot.jobs.backups import BackupJobs

        runner.add_feature(
            BackupJobs(
                app.settings.database_url,
                app.settings.backup_dir,
                at=BackupJobs.parse_time(backup.schedule),
                zone=backup.timezone,
                keep=backup.keep,
                observer=app.observer,
            )
        )
    if reminder_sender is not None:
        runner.add_feature(
            # The service is read from the current runtime at each sweep (it may be swapped).
            ReminderJobs(app.db, lambda: app.services.reminders, reminder_sender,
                         limiter=limiter, observer=app.observer)
        )
    return runner


__all__ = [
    "DigestPoster",
    "JobRunner",
    "Publisher",
    "ReminderJobs",
    "ReminderSender",
    "build_job_runner",
]
