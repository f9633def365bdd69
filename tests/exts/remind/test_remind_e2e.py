"""/remind and the reminder DM through the fake Discord: real discord.py, real services.

The sweep is the runner's own :class:`ReminderJobs`, driven with a chosen "now" and sending
through the bot's real :class:`DiscordReminderSender` (REST to the fake), so the DM, its
buttons, a closed DM's 403 50007 and the notice at the learner's next command are all real.
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Reminder, ReviewCard
from bot.exts.remind._sender import DiscordReminderSender
from bot.jobs.daily import RateLimiter
from bot.jobs.reminders import ReminderJobs
from bot.services.reminders import SNOOZE
from bot.settings import Settings, load_settings
from tests.conftest import FIXTURE_LESSONS
from tests.exts.conftest import click, run
from tests.fakediscord import FakeDiscord, FakeMessage

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Jobs off in the bot: each test sweeps itself, with its own clock."""
    config = tmp_path / "config.toml"
    config.write_text("# empty: defaults only\n")
    return load_settings(config, environ={
        "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
        "TUTORBOT_PATHS__LESSONS_DIR": str(FIXTURE_LESSONS),
        "TUTORBOT_JOBS__ENABLED": "false",
    })


def sweeper(app: AppContext, bot: TutorBot) -> ReminderJobs:
    return ReminderJobs(app.db, lambda: app.services.reminders, DiscordReminderSender(bot),
                        limiter=RateLimiter(45))


async def cards_due(app: AppContext, learner_id: int, count: int, before: datetime) -> None:
    """``count`` of the course's questions (at most its six) due a day before ``before``."""
    question_ids = sorted(app.course.questions)[:count]
    async with app.db.sessions.begin() as session:
        for question_id in question_ids:
            session.add(ReviewCard(learner_id=learner_id, question_id=question_id,
                                   due=before - timedelta(days=1), stability=3.0,
                                   difficulty=5.0, state=2,
                                   last_review=before - timedelta(days=4), reps=1, lapses=0,
                                   suspended=False, created_at=before - timedelta(days=4)))


async def remind_at_1830_berlin(fake: FakeDiscord, app: AppContext, name: str) -> datetime:
    """``name`` sets Berlin time and turns reminders on at 18:30; returns today's 18:30 (UTC).

    The time is set back to noon so that "today" has its 18:30 after turning on.
    """
    await run(fake, name, "settings timezone", {"zone": "Europe/Berlin"})
    reply = await run(fake, name, "remind on", {"time": "18:30"})
    assert reply.ephemeral and "18:30" in reply.content and "Europe/Berlin" in reply.content
    assert "default time zone" not in reply.content
    learner_id = fake.user(name).id
    async with app.db.sessions.begin() as session:
        row = await session.get(Reminder, learner_id)
        assert row is not None
        row.updated_at = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    await cards_due(app, learner_id, 6, datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    return datetime(2026, 12, 1, 18, 30, tzinfo=BERLIN).astimezone(UTC)


def dms(fake: FakeDiscord, name: str) -> list[FakeMessage]:
    return [m for m in fake.messages_in(fake.dm_channel(fake.user(name)))
            if m.author is fake.bot_user]


async def test_remind_on_with_the_default_zone_says_which_zone_and_how_to_change_it(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    reply = await run(fake, "alice", "remind on")
    assert reply.ephemeral
    assert "18:00" in reply.content and "UTC" in reply.content
    assert "default time zone" in reply.content and "/settings timezone" in reply.content
    off = await run(fake, "alice", "remind off")
    assert "Reminders are off" in off.content
    again = await run(fake, "alice", "remind off")
    assert "already off" in again.content


async def test_a_bad_time_is_refused_clearly(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    reply = await run(fake, "alice", "remind on", {"time": "25:99"})
    assert reply.ephemeral and "is not a time of day" in reply.content


async def test_the_dm_snoozes_once_then_turns_off(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    at = await remind_at_1830_berlin(fake, app, "alice")
    jobs = sweeper(app, tutor)
    assert await jobs.sweep(at - timedelta(minutes=1)) == []
    [outcome] = await jobs.sweep(at)
    [dm] = dms(fake, "alice")
    assert outcome.message_id == dm.id
    assert "6 questions are due" in dm.content
    assert [b["label"] for b in dm.buttons] == ["Review 5 now", "Snooze 1 h", "Turn off"]
    assert await jobs.sweep(at + timedelta(minutes=5)) == []  # once a day

    # "Review 5 now" starts the review right there in the DM: the most overdue first.
    review = await click(fake, dm, "Review 5 now", "alice")
    assert review.ephemeral and review.channel is fake.dm_channel(fake.user("alice"))
    intro, question = review.embeds
    assert "6 questions due" in intro["description"]
    assert "This review has 5; 1 more wait" in intro["description"]
    assert "Reviews in a DM earn no server points" in intro["description"]
    assert question["title"] and review.buttons
    snoozed = await click(fake, dm, "Snooze 1 h", "alice")
    assert "Snoozed" in snoozed.content
    assert [b["label"] for b in snoozed.buttons] == ["Review 5 now", "Turn off"]

    # The click ran on the real clock: one hour from then, today (in Berlin). Moved onto this
    # test's clock (snoozed at 18:35 on 1 December) for the sweeps below.
    clicked = datetime.now(UTC)
    async with app.db.sessions.begin() as session:
        row = await session.get(Reminder, fake.user("alice").id)
        assert row is not None and row.snoozed_until is not None
        assert abs(row.snoozed_until - clicked - SNOOZE) < timedelta(minutes=1)
        assert row.resent_on == clicked.astimezone(BERLIN).date()
        until = row.snoozed_until = at + timedelta(minutes=5) + SNOOZE
        row.resent_on = at.astimezone(BERLIN).date()
    # The re-send comes when the snooze ends, once, and cannot be snoozed again.
    [_again] = await jobs.sweep(until)
    _first, resent = dms(fake, "alice")
    assert "Still time" in resent.content
    assert [b["label"] for b in resent.buttons] == ["Review 5 now", "Turn off"]
    assert await jobs.sweep(until + timedelta(minutes=5)) == []

    off = await click(fake, resent, "Turn off", "alice")
    assert "Reminders are off" in off.content and not off.buttons
    async with app.db.sessions() as session:
        row = await session.get(Reminder, fake.user("alice").id)
        assert row is not None and not row.enabled


async def test_dms_at_local_time_across_dst_and_none_with_fewer_than_n_due(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await run(fake, "alice", "settings timezone", {"zone": "Europe/Berlin"})
    await run(fake, "alice", "remind on", {"time": "18:30"})
    alice = fake.user("alice").id
    start = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    async with app.db.sessions.begin() as session:
        row = await session.get(Reminder, alice)
        assert row is not None
        row.updated_at = start
    await cards_due(app, alice, 4, start)  # one fewer than review.remind_min_due (5)
    jobs = sweeper(app, tutor)
    assert await jobs.sweep(datetime(2026, 10, 24, 16, 30, tzinfo=UTC)) == []
    assert dms(fake, "alice") == []
    async with app.db.sessions.begin() as session:
        session.add(ReviewCard(learner_id=alice, question_id=sorted(app.course.questions)[4], due=start, state=1,
                               reps=0, lapses=0, suspended=False))
    # Five due now: within the grace window after 18:30, the day's DM goes.
    assert len(await jobs.sweep(datetime(2026, 10, 24, 16, 31, tzinfo=UTC))) == 1
    # Berlin leaves summer time on 25 October: 18:30 local is then 17:30 UTC, not 16:30.
    for day in (25, 26):
        assert await jobs.sweep(datetime(2026, 10, day, 16, 30, tzinfo=UTC)) == []
        assert await jobs.sweep(datetime(2026, 10, day, 17, 29, tzinfo=UTC)) == []
        assert len(await jobs.sweep(datetime(2026, 10, day, 17, 30, tzinfo=UTC))) == 1
    assert len(dms(fake, "alice")) == 3
    assert all("5 questions are due" in dm.content for dm in dms(fake, "alice"))


async def test_a_forged_click_on_someone_elses_reminder_is_refused(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    at = await remind_at_1830_berlin(fake, app, "alice")
    await sweeper(app, tutor).sweep(at)
    [dm] = dms(fake, "alice")
    handle = await fake.forged_click(dm, "Turn off", dm.button("Turn off")["custom_id"],
                                     user=fake.user("bob"))
    refused = await handle.response()
    assert refused.ephemeral and "someone else" in refused.content
    async with app.db.sessions() as session:
        row = await session.get(Reminder, fake.user("alice").id)
        assert row is not None and row.enabled


async def test_closed_dms_switch_reminders_off_and_the_learner_is_told_next_time(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    at = await remind_at_1830_berlin(fake, app, "alice")
    fake.user("alice").dms_open = False
    [outcome] = await sweeper(app, tutor).sweep(at)
    assert outcome.switched_off
    assert [r.status for r in fake.rejections] == [403]
    fake.rejections.clear()  # the refused DM, as expected
    assert dms(fake, "alice") == []
    # Bob is not told anything; Alice is, after the reply to whatever she runs next, once.
    bob = await fake.slash(fake.user("bob"), "remind off")
    await bob.response()
    handle = await fake.slash(fake.user("alice"), "settings timezone", {"zone": "Asia/Tokyo"})
    assert "Asia/Tokyo" in (await handle.response()).content
    told = await handle.followup(0)
    assert told.ephemeral and "reminders are off" in told.content
    assert "/remind on" in told.content
    later = await fake.slash(fake.user("alice"), "settings timezone", {"zone": "Europe/Berlin"})
    await later.response()
    await fake.settled()
    assert len(later.messages()) == 1
    assert len(bob.messages()) == 1
