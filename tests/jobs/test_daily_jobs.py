"""The daily-quiz jobs: claim → send (nonce) → mark, retries, catch-up, failures, closing.

Discord is the edge here: :class:`RecordingPublisher` implements the ``Publisher`` port the way
Discord behaves for it (a repeated nonce within the window returns the first message; history
holds the bot's posts with the post id in their buttons). The adapter over discord.py and its
tests through the fake Discord belong to the Discord side (``bot/exts/daily``).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.db.models.daily import DailyPost
from bot.jobs.daily import DailyQuizJobs
from bot.jobs.leader import AlwaysLeader
from bot.jobs.ports import ChannelGoneError, ForbiddenError, PublishError, RetryableError
from bot.jobs.runner import JobRunner
from bot.services.daily import PostToSend, Results
from bot.services.schedules import ScheduleView

GUILD, CHANNEL, MOD, NOTICE = 5001, 6001, 7001, 8001
#: 2026-12-01 09:00 in Berlin.
NINE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class RecordingPublisher:
    """The Publisher port as Discord behaves for it, recording every call."""

    def __init__(self) -> None:
        self.ids = itertools.count(900_000)
        self.messages: dict[int, PostToSend] = {}  # message id -> post
        self.by_nonce: dict[str, int] = {}
        self.nonce_window_open = True  # False: Discord has forgotten the nonces
        self.failures: list[PublishError] = []
        self.lost_replies = 0  # Discord posts, but the reply never reaches us
        self.closed: list[int] = []
        self.results: list[Results] = []
        self.notices: list[tuple[int, str, int | None]] = []
        self.finds = 0

    @property
    def posted(self) -> list[PostToSend]:
        return list(self.messages.values())

    async def post_daily(self, post: PostToSend) -> int:
        if self.failures:
            raise self.failures.pop(0)
        if self.nonce_window_open and post.nonce in self.by_nonce:
            return self.by_nonce[post.nonce]
        message_id = next(self.ids)
        self.messages[message_id] = post
        self.by_nonce[post.nonce] = message_id
        if self.lost_replies:
            self.lost_replies -= 1
            raise RetryableError("connection reset", retry_after=0)
        return message_id

    async def find_daily(self, post: PostToSend) -> int | None:
        self.finds += 1
        return next((mid for mid, p in self.messages.items() if p.post_id == post.post_id), None)

    async def close_daily(self, results: Results) -> None:
        assert results.message_id is not None
        self.closed.append(results.message_id)

    async def post_results(self, results: Results) -> int:
        self.results.append(results)
        return next(self.ids)

    async def notify_paused(
        self, schedule: ScheduleView, reason: str, notice_channel_id: int | None
    ) -> None:
        self.notices.append((schedule.id, reason, notice_channel_id))


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def jobs(app: AppContext, publisher: RecordingPublisher) -> DailyQuizJobs:
    return DailyQuizJobs(
        app.db, daily=app.services.daily, schedules=app.services.schedules,
        guild_config=app.services.guild_config, publisher=publisher,
        grace=timedelta(hours=2), send_per_second=1000, clock=lambda: NINE,
    )


async def _schedule(app: AppContext, local_time: str = "09:00", zone: str = "Europe/Berlin",
                    created: datetime = NINE - timedelta(days=10), **kwargs: object) -> int:
    async with app.db.sessions.begin() as session:
        view = await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=CHANNEL, created_by=MOD, local_time=local_time,
            timezone=zone, now=created, **kwargs,  # type: ignore[arg-type]
        )
        return view.id


async def _posts(app: AppContext) -> list[DailyPost]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(DailyPost).order_by(DailyPost.id)))


async def test_a_fire_posts_once_with_the_claim_as_nonce(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app)
    outcome = await jobs.fire(schedule_id, NINE + timedelta(seconds=1))
    assert outcome is not None and outcome.message_id is not None
    assert await jobs.fire(schedule_id, NINE + timedelta(minutes=5)) is None  # same local day
    [post] = await _posts(app)
    assert post.message_id == outcome.message_id and post.posted_at is not None
    assert [p.nonce for p in publisher.posted] == [post.nonce]


async def test_fall_back_double_fire_posts_once_and_spring_forward_posts_at_0330(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app, "02:30", created=datetime(2026, 10, 1, tzinfo=UTC))
    # 2026-10-25: 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC) both fire.
    first = await jobs.fire(schedule_id, datetime(2026, 10, 25, 0, 30, 1, tzinfo=UTC))
    second = await jobs.fire(schedule_id, datetime(2026, 10, 25, 1, 30, 1, tzinfo=UTC))
    assert first is not None and second is None
    # 2027-03-28 (no 02:30 that day): the fire at 03:30 CEST = 01:30 UTC posts that day's quiz.
    spring = await jobs.fire(schedule_id, datetime(2027, 3, 28, 1, 30, 1, tzinfo=UTC))
    assert spring is not None
    posts = await _posts(app)
    assert [(p.local_date.isoformat(), p.due_at) for p in posts] == [
        ("2026-10-25", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2027-03-28", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ]
    assert len(publisher.posted) == 2


async def test_catch_up_posts_a_missed_time_within_the_grace_window_only(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    recent = await _schedule(app, "08:00")  # 1 h before NINE: within the 2 h grace window
    old = await _schedule(app, "06:00")  # 3 h before: too late, wait for tomorrow
    await _schedule(app, "10:00")  # not due yet
    outcomes = await jobs.catch_up(NINE)
    assert [o.message_id is not None for o in outcomes] == [True]
    [post] = await _posts(app)
    assert post.schedule_id == recent and post.due_at == NINE - timedelta(hours=1)
    assert old not in {p.schedule_id for p in await _posts(app)}
    assert await jobs.catch_up(NINE + timedelta(minutes=1)) == []  # claimed: never twice
    assert len(publisher.posted) == 1


async def test_a_schedule_created_after_its_time_waits_for_the_next_day(
    app: AppContext, jobs: DailyQuizJobs
) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=CHANNEL, created_by=MOD, local_time="08:30",
            timezone="Europe/Berlin", now=NINE,
        )
    assert await jobs.catch_up(NINE + timedelta(minutes=1)) == []


async def test_crash_between_claim_and_post_is_completed_with_the_same_nonce(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app)
    # Discord made the message but the reply was lost (the process "died" right there).
    publisher.lost_replies = 1
    outcome = await jobs.fire(schedule_id, NINE)
    assert outcome is not None and outcome.message_id is None
    assert len(publisher.posted) == 1
    [post] = await _posts(app)
    assert post.message_id is None and post.attempts == 1
    # The leader retries within 3 minutes with the same nonce: Discord returns the first message.
    jobs._not_before.clear()
    [retried] = await jobs.retry_unposted(NINE + timedelta(minutes=1))
    assert retried.message_id == next(iter(publisher.messages))
    assert len(publisher.posted) == 1 and publisher.finds == 0
    [post] = await _posts(app)
    assert post.message_id == retried.message_id


async def test_after_the_nonce_window_the_channel_is_read_before_sending_again(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app)
    async with app.db.sessions.begin() as session:  # claimed, then the process died
        claimed = await app.services.daily.claim(session, schedule_id, NINE, now=NINE)
    assert claimed is not None
    publisher.nonce_window_open = False
    # Nothing in the channel: it is sent (late, still within the grace window).
    [first] = await jobs.retry_unposted(NINE + timedelta(minutes=10))
    assert first.message_id is not None and publisher.finds == 1 and len(publisher.posted) == 1

    # A post whose message exists but was never marked: found, not sent again.
    async with app.db.sessions.begin() as session:
        claimed2 = await app.services.daily.claim(session, schedule_id, NINE + timedelta(days=1),
                                                  now=NINE + timedelta(days=1))
    assert claimed2 is not None
    message_id = await publisher.post_daily(claimed2)  # Discord has it; we never marked it
    later = NINE + timedelta(days=1, minutes=10)
    [found] = await jobs.retry_unposted(later)
    assert found.message_id == message_id and len(publisher.posted) == 2


async def test_claims_older_than_the_grace_window_are_given_up(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app)
    async with app.db.sessions.begin() as session:
        await app.services.daily.claim(session, schedule_id, NINE, now=NINE)
    assert await jobs.retry_unposted(NINE + timedelta(hours=3)) == []
    [post] = await _posts(app)
    assert post.failed_at is not None and publisher.posted == []


@pytest.mark.parametrize("error", [ChannelGoneError("Unknown Channel", status=404),
                                   ForbiddenError("Missing Access", status=403)])
async def test_404_and_403_pause_the_schedule_and_tell_moderators(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher, error: PublishError
) -> None:
    schedule_id = await _schedule(app)
    async with app.db.sessions.begin() as session:
        await app.services.guild_config.set(session, GUILD, notice_channel_id=NOTICE)
    publisher.failures = [error]
    outcome = await jobs.fire(schedule_id, NINE)
    assert outcome is not None and outcome.paused
    async with app.db.sessions() as session:
        view = await app.services.schedules.get(session, GUILD, schedule_id)
    assert view.paused and str(error) in (view.pause_reason or "")
    [(notified, reason, channel)] = publisher.notices
    assert notified == schedule_id and channel == NOTICE and str(error) in reason
    [post] = await _posts(app)
    assert post.failed_at is not None
    assert await jobs.retry_unposted(NINE + timedelta(minutes=1)) == []  # never retried


async def test_5xx_and_429_are_retried_after_retry_after(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app)
    publisher.failures = [RetryableError("503", status=503),
                          RetryableError("429", status=429, retry_after=30)]
    first = await jobs.fire(schedule_id, NINE)
    assert first is not None and first.error == "503" and not first.paused
    [second] = await jobs.retry_unposted(NINE + timedelta(seconds=6))
    assert second.error == "429"
    assert await jobs.retry_unposted(NINE + timedelta(seconds=20)) == []  # retry_after: 30 s
    [third] = await jobs.retry_unposted(NINE + timedelta(seconds=40))
    assert third.message_id is not None
    async with app.db.sessions() as session:
        assert not (await app.services.schedules.get(session, GUILD, schedule_id)).paused
    assert len(publisher.posted) == 1


async def test_posts_close_at_their_time_with_results(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app, close_after="2h")
    outcome = await jobs.fire(schedule_id, NINE)
    assert outcome is not None and outcome.message_id is not None
    assert await jobs.close_due(NINE + timedelta(hours=1)) == []
    [post] = await _posts(app)
    assert await jobs.close_due(NINE + timedelta(hours=2)) == [post.id]
    assert publisher.closed == [outcome.message_id]
    assert [r.post_id for r in publisher.results] == [post.id]
    assert await jobs.close_due(NINE + timedelta(hours=3)) == []  # once
    [post] = await _posts(app)
    assert post.closed_at is not None and post.results_message_id is not None


async def test_results_failing_with_5xx_are_posted_on_the_next_round(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    schedule_id = await _schedule(app, close_after="1h")
    await jobs.fire(schedule_id, NINE)
    original = publisher.post_results

    async def failing(results: Results) -> int:
        raise RetryableError("502", status=502)

    publisher.post_results = failing  # type: ignore[method-assign]
    assert await jobs.close_due(NINE + timedelta(hours=1)) == []
    publisher.post_results = original  # type: ignore[method-assign]
    [post] = await _posts(app)
    assert post.closed_at is not None and post.results_message_id is None
    assert await jobs.close_due(NINE + timedelta(hours=1, minutes=1)) == [post.id]
    assert len(publisher.results) == 1


async def test_the_runner_schedules_jobs_from_sql_and_follows_edits(
    app: AppContext, publisher: RecordingPublisher
) -> None:
    """The real APScheduler: jobs built from the table, an edit reaches it within sync time."""
    jobs = DailyQuizJobs(
        app.db, daily=app.services.daily, schedules=app.services.schedules,
        guild_config=app.services.guild_config, publisher=publisher, sync_seconds=0.2,
    )
    runner = JobRunner(AlwaysLeader(), check_seconds=0.1)
    runner.add_feature(jobs)
    first = await _schedule(app, "09:00")
    await runner.start()
    try:
        assert await runner.wait_leading(30)
        assert runner.scheduler is not None
        job = runner.scheduler.get_job(f"daily:{first}")
        assert job is not None
        berlin = job.next_run_time.astimezone(ZoneInfo("Europe/Berlin"))
        assert (berlin.hour, berlin.minute) == (9, 0)
        async with app.db.sessions.begin() as session:
            await app.services.schedules.edit(session, GUILD, first, local_time="17:45")
            second = (await app.services.schedules.add(
                session, guild_id=GUILD, channel_id=CHANNEL, created_by=MOD,
                local_time="07:15", timezone="Asia/Tokyo",
            )).id
            await app.services.schedules.pause(session, GUILD, first)
        for _ in range(300):  # sync every 0.2 s; generous for a loaded machine
            await asyncio.sleep(0.1)
            if runner.scheduler.get_job(f"daily:{second}") and not runner.scheduler.get_job(
                f"daily:{first}"
            ):
                break
        added = runner.scheduler.get_job(f"daily:{second}")
        assert added is not None
        local = added.next_run_time.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (local.hour, local.minute) == (7, 15)
        assert runner.scheduler.get_job(f"daily:{first}") is None  # paused: no job
    finally:
        await runner.stop()
    assert runner.scheduler is None


async def test_many_schedules_due_together_post_once_each(
    app: AppContext, jobs: DailyQuizJobs, publisher: RecordingPublisher
) -> None:
    ids = [await _schedule(app, "08:59") for _ in range(20)]
    await asyncio.gather(*(jobs.fire(sid, NINE) for sid in ids),
                         *(jobs.fire(sid, NINE) for sid in ids))
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailyPost)) == 20
    assert len(publisher.posted) == 20


async def test_a_process_with_jobs_disabled_never_leads(app: AppContext) -> None:
    runner = JobRunner(AlwaysLeader(), check_seconds=0.05, enabled=False)
    await runner.start()
    assert not await runner.wait_leading(0.3)
    await runner.stop()


async def test_posts_made_late_and_missed_are_counted_with_one_line_per_job(
    app: AppContext, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.jobs.runner import JobTracker

    observer = app.observer
    jobs = DailyQuizJobs(
        app.db, daily=app.services.daily, schedules=app.services.schedules,
        guild_config=app.services.guild_config, publisher=publisher,
        grace=timedelta(hours=2), send_per_second=1000, clock=lambda: NINE, observer=observer,
    )
    tracker = JobTracker("daily-quiz", observer)
    await observer.load_learner_key(app.db)
    caplog.set_level("DEBUG", logger="tutorbot.events")
    on_time = await _schedule(app)  # 09:00 Berlin: NINE
    await _schedule(app, "08:00")  # an hour ago: the catch-up posts it late
    await tracker.wrap(jobs.fire)(on_time, NINE + timedelta(seconds=1))
    await tracker.wrap(jobs.catch_up)(NINE)
    # A claim never posted, given up after the grace window: missed.
    missed = await _schedule(app, "07:00", zone="UTC", created=NINE - timedelta(days=3))
    async with app.db.sessions.begin() as session:
        await app.services.daily.claim(session, missed, NINE - timedelta(hours=1),
                                       now=NINE - timedelta(hours=3))
    await tracker.wrap(jobs.maintain)(NINE)

    def metric(name: str) -> float:
        return observer.metrics.registry.get_sample_value(name) or 0.0

    assert metric("tutorbot_daily_posts_made_total") == 2
    assert metric("tutorbot_daily_posts_late_total") == 1
    assert metric("tutorbot_daily_posts_missed_total") == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "tutorbot.events"]
    assert len(lines) == 3
    assert "job=daily-quiz:fire" in lines[0] and "posts_made=1" in lines[0]
    assert "posts_late=1" in lines[1] and "outcome=ok" in lines[1]
    assert "posts_missed=1" in lines[2] and "version=" in lines[2]


async def test_a_failing_job_has_an_error_id_in_its_line_and_its_traceback(
    app: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.jobs.runner import JobTracker

    async def broken() -> None:
        raise RuntimeError("boom")

    await JobTracker("daily-quiz", app.observer).wrap(broken)()
    line = next(r.getMessage() for r in caplog.records if r.name == "tutorbot.events")
    assert "job=daily-quiz:broken" in line and "outcome=error" in line
    error_id = line.split("error_id=")[1].split()[0]
    traceback = next(r for r in caplog.records if r.exc_info)
    assert error_id in traceback.getMessage()
    assert app.observer.metrics.registry.get_sample_value(
        "tutorbot_jobs_total", {"job": "daily-quiz:broken", "outcome": "error"}) == 1
