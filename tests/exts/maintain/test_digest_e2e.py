"""The weekly digest and /ask log pruning: once per (guild, ISO week), through the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Feedback
from bot.db.models.ask import AskLog
from bot.db.models.daily import JobClaim
from bot.exts.maintain._digest import DiscordDigestPoster
from bot.jobs.maintainers import MaintainerJobs, digest_due
from bot.services.feedback import FeedbackContext
from bot.services.maintain import MaintainService
from tests.fakediscord import FakeDiscord

# Monday 30 November 2026, ISO week 2026-W49. Berlin is UTC+1 in winter.
MONDAY_0730_UTC = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Berlin: not yet
MONDAY_0830_UTC = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Berlin: due


def test_the_digest_is_due_from_the_weekday_and_hour_in_the_guilds_zone() -> None:
    assert not digest_due(MONDAY_0730_UTC, "Europe/Berlin", 0, 9)
    assert digest_due(MONDAY_0830_UTC, "Europe/Berlin", 0, 9)
    assert digest_due(MONDAY_0730_UTC, "Etc/UTC", 0, 7)
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo (UTC+9).
    assert digest_due(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "Asia/Tokyo", 0, 8)


async def _setup(app: AppContext, fake: FakeDiscord) -> int:
    channel = fake.guild.channel("general")
    async with app.db.sessions.begin() as session:
        await app.services.guild_config.set(session, fake.guild.id, timezone="Europe/Berlin",
                                            notice_channel_id=channel.id)
        alice = fake.user("alice")
        await app.services.learners.ensure(session, alice.id, "alice", guild_id=fake.guild.id)
        await app.services.feedback.record(
            session, alice.id, comment="q1 is confusing", reason="unclear",
            context=FeedbackContext(question_id="fx-genai.q1", guild_id=fake.guild.id),
        )
    return channel.id


def _jobs(app: AppContext, tutor: TutorBot, **options: int) -> MaintainerJobs:
    return MaintainerJobs(app.db, MaintainService(app.course), DiscordDigestPoster(tutor),
                          weekday=0, hour=9, **options)


async def test_one_digest_per_guild_and_week_even_from_two_processes(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await _setup(app, fake)
    first, second = _jobs(app, tutor), _jobs(app, tutor)
    assert await first.digests(MONDAY_0730_UTC) == []  # 08:30 in Berlin: not yet
    posted = await first.digests(MONDAY_0830_UTC)
    assert len(posted) == 1
    message = fake.messages[posted[0]]
    assert message.embed["title"] == "\U0001f4cb Course digest, week 2026-W49"
    assert "**1** new feedback item" in message.embed["description"]
    fields = {f["name"]: f["value"] for f in message.embed["fields"]}
    assert "fx-genai.q1" in fields["Most-reported questions"]
    # Later the same week, and another process: nothing more.
    assert await first.digests(MONDAY_0830_UTC + timedelta(hours=5)) == []
    assert await second.digests(MONDAY_0830_UTC + timedelta(days=3)) == []
    assert len(fake.messages_in(fake.guild.channel("general"))) == 1
    # The next week posts again.
    assert len(await second.digests(MONDAY_0830_UTC + timedelta(days=7))) == 1


async def test_a_deleted_channel_skips_the_week_without_crashing(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await _setup(app, fake)
    await fake.delete_channel(fake.guild.channel("general"))
    assert await _jobs(app, tutor).digests(MONDAY_0830_UTC) == []
    async with app.db.sessions() as session:
        claim = await session.scalar(select(JobClaim).where(JobClaim.kind == "digest"))
    assert claim is not None and claim.done_at is not None
    assert [r.status for r in fake.rejections] == [404]  # the one refused post, as expected
    fake.rejections.clear()


async def test_old_ask_logs_are_pruned_and_feedback_keeps_its_rating(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    alice = fake.user("alice")
    now = datetime.now(UTC)
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, alice.id, "alice")
        old = AskLog(learner_id=alice.id, question="old", answer="a", engine="local",
                     latency_ms=1, citations=[], created_at=now - timedelta(days=40))
        new = AskLog(learner_id=alice.id, question="new", answer="a", engine="local",
                     latency_ms=1, citations=[], created_at=now - timedelta(days=2))
        session.add_all([old, new])
        await session.flush()
        await app.services.feedback.rate_answer(session, alice.id, old.id, -1)
    jobs = _jobs(app, tutor, retention_days=30)
    assert await jobs.prune(now) == 1
    async with app.db.sessions() as session:
        assert list(await session.scalars(select(AskLog.question))) == ["new"]
        [rating] = list(await session.scalars(select(Feedback)))
    assert rating.rating == -1 and rating.ask_log_id is None
    assert await _jobs(app, tutor, retention_days=0).prune(now + timedelta(days=999)) == 0


async def test_the_bot_runs_the_digest_on_its_job_runner(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    from bot.jobs.runner import JobRunner

    [runner] = [w for w in app.workers if isinstance(w, JobRunner)]
    assert {"daily", "maintainers"} <= {f.name for f in runner.features}  # reminders too
