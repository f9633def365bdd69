"""Moderators' daily quizzes on Discord: /schedule, the posted quiz, its buttons, failures.

Time is driven here with a controllable clock: the tests take the leader's steps (``fire``,
``close_due``) with a chosen "now" through the real services, and everything else is real —
the bot's publisher posting through REST to the fake Discord, the buttons, the database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.content.model import Question
from bot.db.base import utcnow
from bot.db.models.ask import AskLog
from bot.db.models.daily import DailyAnswer, DailyPost, Schedule
from bot.exts import _interactions
from bot.exts.daily._publisher import DiscordPublisher
from bot.jobs.ports import PublishError
from bot.services.schedules import ScheduleView, fire_times
from bot.settings import Settings, load_settings
from bot.ui import custom_ids as ids
from tests.conftest import FIXTURE_LESSONS
from tests.exts.conftest import AppFactory, count, run, running_bot
from tests.fakediscord import FakeDiscord, FakeMessage, ScenarioError
from tests.fakediscord._world import EMBED_LINKS, SEND_MESSAGES


@pytest.fixture
def jobs_enabled() -> bool:
    """Whether the bot runs its job runner (parametrize this name to turn it on)."""
    return False


@pytest.fixture
def settings(tmp_path: Path, jobs_enabled: bool) -> Settings:
    """Jobs off in the bot: each test drives the daily-quiz jobs itself, with its own clock."""
    config = tmp_path / "config.toml"
    config.write_text("# empty: defaults only\n")
    return load_settings(
        config,
        environ={
            "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
            "TUTORBOT_PATHS__LESSONS_DIR": str(FIXTURE_LESSONS),
            "TUTORBOT_JOBS__ENABLED": str(jobs_enabled).lower(),
        },
    )


@dataclass
class Outcome:
    """What one scheduled post did."""

    post_id: int
    message_id: int | None = None
    paused: bool = False


class Leader:
    """The leader's steps for one schedule, with a controllable clock: the real services
    (claim, mark, close, pause) and the bot's real publisher, in the order the job runner
    takes them (claim → send with the nonce → mark; close → edit → results)."""

    def __init__(self, app: AppContext, bot: TutorBot) -> None:
        self.app = app
        self.publisher = DiscordPublisher(bot)
        self.grace = timedelta(hours=2)

    async def fire(self, schedule_id: int, now: datetime) -> Outcome | None:
        """The schedule's latest due time up to ``now``: claim it and post (``None``: nothing)."""
        services, sessions = self.app.services, self.app.db.sessions
        async with sessions() as session:
            row = await session.get(Schedule, schedule_id)
            assert row is not None
            fires = fire_times(row.local_time, row.timezone, row.days,
                               max(now - self.grace, row.created_at), now + timedelta(seconds=1))
        if not fires:
            return None
        async with sessions.begin() as session:
            post = await services.daily.claim(session, schedule_id, fires[-1], now=now)
        if post is None:
            return None
        try:
            message_id = await self.publisher.post_daily(post)
        except PublishError as exc:
            assert exc.permanent, exc
            async with sessions.begin() as session:
                await services.daily.record_attempt_failed(session, post.post_id, str(exc),
                                                           permanent=True, now=now)
                view = await services.schedules.pause_for_failure(session, schedule_id,
                                                                  str(exc), now)
                config = await services.guild_config.get(session, post.guild_id)
            assert view is not None
            await self.publisher.notify_paused(view, str(exc), config.notice_channel_id)
            return Outcome(post.post_id, paused=True)
        async with sessions.begin() as session:
            await services.daily.mark_posted(session, post.post_id, message_id, now)
        return Outcome(post.post_id, message_id)

    async def close_due(self, now: datetime) -> list[int]:
        """Close every post past its time: edit its buttons, post the results."""
        services, sessions = self.app.services, self.app.db.sessions
        async with sessions() as session:
            due = await services.daily.due_to_close(session, now)
        for post_id in due:
            async with sessions.begin() as session:
                results = await services.daily.close(session, post_id, now)
            await self.publisher.close_daily(results)
            message_id = await self.publisher.post_results(results)
            async with sessions.begin() as session:
                await services.daily.mark_results_posted(session, post_id, message_id)
        return due


def jobs_for(app: AppContext, bot: TutorBot) -> Leader:
    """The leader's steps for ``app``, posting through ``bot``."""
    return Leader(app, bot)


async def add_schedule(fake: FakeDiscord, user: str = "course-owner", **options: Any) -> FakeMessage:
    """``/schedule add`` in #general (by default at 09:00 Europe/Berlin)."""
    given = {"channel": fake.guild.channel("general"), "time": "09:00",
             "timezone": "Europe/Berlin", **options}
    return await run(fake, user, "schedule add", given)


async def schedules(app: AppContext, guild_id: int) -> list[ScheduleView]:
    """The guild's schedules, as the service sees them."""
    async with app.db.sessions() as session:
        return await app.services.schedules.list(session, guild_id)


async def post_row(app: AppContext, schedule_id: int) -> DailyPost:
    """The only post of a schedule."""
    async with app.db.sessions() as session:
        return (await session.scalars(
            select(DailyPost).where(DailyPost.schedule_id == schedule_id)
        )).one()


def quiz_posts(fake: FakeDiscord, channel: str = "general") -> list[FakeMessage]:
    """The daily quizzes the bot posted in a channel."""
    return [
        m for m in fake.messages_in(fake.guild.channel(channel))
        if m.author is fake.bot_user and m.embeds and "Daily quiz" in m.embed.get("title", "")
        and "results" not in m.embed.get("title", "")
    ]


def choice_button(message: FakeMessage, question: Question, *, right: bool) -> str:
    """The custom id of a right (or a wrong) choice on a posted quiz."""
    for button in message.buttons:
        key = ids.decode(button["custom_id"])
        if isinstance(key, ids.DailyChoice) and (key.choice_id == question.answer_choice) == right:
            return str(button["custom_id"])
    raise AssertionError(f"no {'right' if right else 'wrong'} button on {message!r}")


async def answer(fake: FakeDiscord, message: FakeMessage, question: Question, user: str,
                 *, right: bool) -> FakeMessage:
    """``user`` clicks a right (or wrong) choice; the private reply."""
    handle = await fake.click(message, choice_button(message, question, right=right),
                              user=fake.user(user))
    return await handle.response()


async def post_now(app: AppContext, bot: TutorBot, reveal: str = "at_close",
                   **options: Any) -> tuple[ScheduleView, Leader, datetime]:
    """A schedule posted at its next local time: (schedule, jobs, the "now" of the post)."""
    fake_guild_id = next(iter(bot.guilds)).id
    [schedule] = await schedules(app, fake_guild_id)
    assert schedule.next_post_at is not None
    jobs = jobs_for(app, bot)
    when = schedule.next_post_at + timedelta(seconds=30)
    outcome = await jobs.fire(schedule.id, now=when)
    assert outcome is not None and outcome.message_id, outcome
    return schedule, jobs, when


# --- /schedule add and the post at the right local time -----------------------------------


async def test_a_moderator_schedules_a_quiz_that_posts_at_its_local_time(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    reply = await add_schedule(fake, days="weekdays", reveal="instant")
    assert reply.ephemeral and reply.embed["title"].startswith("Daily quiz #")
    assert "09:00 Europe/Berlin" in reply.embed["description"]
    assert "<t:" in reply.embed["description"]  # shown in each reader's own time
    [schedule] = await schedules(app, fake.guild.id)
    local = schedule.next_post_local
    assert local is not None and (local.hour, local.minute) == (9, 0)
    assert local.weekday() < 5
    assert schedule.next_post_at is not None

    jobs = jobs_for(app, tutor)
    early = await jobs.fire(schedule.id, now=schedule.next_post_at - timedelta(minutes=1))
    assert early is None and not quiz_posts(fake)  # not yet 09:00 in Berlin

    outcome = await jobs.fire(schedule.id, now=schedule.next_post_at + timedelta(seconds=5))
    assert outcome is not None and outcome.message_id
    [posted] = quiz_posts(fake)
    assert posted.id == outcome.message_id
    assert not posted.ephemeral and posted.content == ""
    row = await post_row(app, schedule.id)
    assert row.message_id == posted.id and row.local_date == local.date()
    question = app.course.questions[row.question_id]
    assert question.prompt in posted.embed["description"]
    keys = [ids.decode(b["custom_id"]) for b in posted.buttons]
    assert all(isinstance(k, ids.DailyChoice) and k.post_id == row.id for k in keys)
    assert {k.choice_id for k in keys if isinstance(k, ids.DailyChoice)} == {
        c.id for c in question.choices
    }
    # A second fire the same local day (an edit, a restart, the DST fall-back) posts nothing.
    again = await jobs.fire(schedule.id, now=schedule.next_post_at + timedelta(minutes=50))
    assert again is None and len(quiz_posts(fake)) == 1


async def test_bad_time_zone_and_channel_options_get_clear_errors(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    bad_time = await add_schedule(fake, time="25:00")
    assert "is not a time of day" in bad_time.content and bad_time.ephemeral
    bad_zone = await add_schedule(fake, timezone="Mars/Olympus")
    assert "time zone" in bad_zone.content
    bad_days = await add_schedule(fake, days="someday")
    assert "is not a day" in bad_days.content
    assert await count(app, Schedule) == 0
    choices = await fake.autocomplete(fake.owner, "schedule add", "timezone", "utc",
                                      {"channel": fake.guild.channel("general"), "time": "9"})
    assert choices[0]["value"] == "Etc/UTC"
    first = await fake.autocomplete(fake.owner, "schedule add", "timezone", "",
                                    {"channel": fake.guild.channel("general"), "time": "9"})
    assert "Etc/UTC" in [c["value"] for c in first]
    made = await add_schedule(fake, timezone="Etc/UTC", time="6:30pm")
    assert "18:30 Etc/UTC" in made.embed["description"]


async def test_add_says_which_channel_permissions_the_bot_lacks(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    general = fake.guild.channel("general")
    await fake.set_bot_channel_permissions(general, deny=SEND_MESSAGES | EMBED_LINKS)
    await fake.wait_until(
        lambda: not general_perms(tutor, general.id).send_messages, what="the overwrite"
    )
    refused = await add_schedule(fake)
    assert "Send Messages" in refused.content and "Embed Links" in refused.content
    assert "View Channel" not in refused.content
    assert await count(app, Schedule) == 0


def general_perms(bot: TutorBot, channel_id: int) -> Any:
    """The bot's permissions in a channel, as its cache sees them."""
    guild = next(iter(bot.guilds))
    channel = guild.get_channel(channel_id)
    assert channel is not None
    return channel.permissions_for(guild.me)


async def test_ping_roles_are_checked_and_only_that_role_is_pinged(
    fake: FakeDiscord, app: AppContext
) -> None:
    guild = fake.guild
    quiet = fake.add_role(guild, "Quiet")
    fans = fake.add_role(guild, "Quiz fans")
    fans.mentionable = True
    async with running_bot(fake, app) as running:
        bot = running.client
        assert isinstance(bot, TutorBot)
        everyone = await add_schedule(fake, ping_role=guild.everyone)
        assert "never ping @everyone" in everyone.content
        not_mentionable = await add_schedule(fake, ping_role=quiet)
        assert "not mentionable" in not_mentionable.content
        assert await count(app, Schedule) == 0
        made = await add_schedule(fake, ping_role=fans)
        assert f"<@&{fans.id}>" in made.embed["description"]
        await post_now(app, bot)
        [posted] = quiz_posts(fake)
        assert posted.content == f"<@&{fans.id}>"
        assert posted.allowed_mentions == {"parse": [], "roles": [fans.id]}
        assert posted.mention_role_ids == [fans.id] and not posted.mention_everyone


@pytest.mark.parametrize("jobs_enabled", [True])
async def test_the_bots_job_runner_posts_a_quiz_missed_while_it_was_down(
    fake: FakeDiscord, app: AppContext
) -> None:
    now = utcnow()
    due = (now - timedelta(minutes=5)).replace(second=0, microsecond=0)
    async with app.db.sessions.begin() as session:
        made = await app.services.schedules.add(
            session, guild_id=fake.guild.id, channel_id=fake.guild.channel("general").id,
            created_by=fake.owner.id, local_time=due.time(), timezone="Etc/UTC",
            now=now - timedelta(days=1),
        )
    async with running_bot(fake, app):
        [posted] = await fake.wait_until(lambda: quiz_posts(fake), what="the caught-up post")
        row = await post_row(app, made.id)
        for _ in range(100):  # marked posted right after Discord answered
            if row.message_id is not None:
                break
            await asyncio.sleep(0.05)
            row = await post_row(app, made.id)
        assert row.message_id == posted.id and row.due_at == due


# --- answering -------------------------------------------------------------------------------


async def test_instant_reveal_answers_once_per_member(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake, reveal="instant")
    schedule, _, _ = await post_now(app, tutor)
    [posted] = quiz_posts(fake)
    row = await post_row(app, schedule.id)
    question = app.course.questions[row.question_id]

    right = await answer(fake, posted, question, "alice", right=True)
    assert right.ephemeral and "Answer recorded" in right.content and "Right!" in right.content
    assert question.explanation[:40] in right.content
    wrong = await answer(fake, posted, question, "bob", right=False)
    assert "Not quite" in wrong.content and "Right answer:" in wrong.content
    # A second click (even on the right answer) is refused politely; the first answer stands.
    again = await answer(fake, posted, question, "bob", right=True)
    assert "already answered" in again.content and "Not quite" in again.content
    assert await count(app, DailyAnswer, DailyAnswer.post_id == row.id) == 2
    async with app.db.sessions() as session:
        bob = await session.scalar(select(DailyAnswer.correct).where(
            DailyAnswer.learner_id == fake.user("bob").id))
    assert bob is False


async def test_source_review_says_it_picks_at_random_until_the_server_has_answers(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    reply = await add_schedule(fake, source="review", reveal="instant")
    assert "gets wrong most" in reply.embed["description"]
    listed = await run(fake, "course-owner", "schedule list")
    assert "No answers to pick from yet" in listed.embed["fields"][0]["value"]
    schedule, _, _ = await post_now(app, tutor)  # no data: the random rule picks
    [posted] = quiz_posts(fake)
    question = app.course.questions[(await post_row(app, schedule.id)).question_id]
    await answer(fake, posted, question, "alice", right=False)
    await answer(fake, posted, question, "bob", right=False)
    # The question just posted rests 14 days in #general; in #lessons it is the hardest.
    await add_schedule(fake, source="review", channel=fake.guild.channel("lessons"))
    listed = await run(fake, "course-owner", "schedule list")
    first, second = (field["value"] for field in listed.embed["fields"][:2])
    assert "No answers to pick from yet" in first
    assert "Review: the hardest of 1 question answered here lately." in second
    preview = await run(fake, "course-owner", "schedule test", {"id": schedule.id + 1})
    assert "0 of 2 answers were right (0%)" in preview.content
    assert question.prompt[:30] in preview.embed["description"] + preview.embed["title"]


async def test_at_close_reveal_says_only_recorded_then_results_and_closed_buttons(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake)  # reveal at_close by default
    schedule, jobs, when = await post_now(app, tutor)
    [posted] = quiz_posts(fake)
    row = await post_row(app, schedule.id)
    question = app.course.questions[row.question_id]
    right_letter_hidden = await answer(fake, posted, question, "alice", right=True)
    assert "Answer recorded" in right_letter_hidden.content
    assert "Right!" not in right_letter_hidden.content
    assert "Not quite" not in right_letter_hidden.content
    await answer(fake, posted, question, "bob", right=False)
    await answer(fake, posted, question, "mia", right=True)

    assert await jobs.close_due(now=when + timedelta(hours=1)) == []  # still open
    closed = await jobs.close_due(now=row.closes_at + timedelta(seconds=1))
    assert closed == [row.id]
    # The channel message itself was edited: every choice disabled, the right one green.
    assert all(b.get("disabled") for b in posted.buttons)
    assert any("Closed" in (b.get("label") or "") for b in posted.buttons)
    right_id = choice_button(posted, question, right=True)
    assert posted.component(right_id)["style"] == 3  # success
    results = [m for m in fake.messages_in(fake.guild.channel("general"))
               if m.embeds and "results" in m.embed.get("title", "")]
    assert len(results) == 1
    text = results[0].embed["description"]
    assert "3 members answered; 67% got it right" in text
    assert f"<@{fake.user('alice').id}>" in text and f"<@{fake.user('mia').id}>" in text
    assert f"<@{fake.user('bob').id}>" not in text
    assert question.explanation[:40] in text
    assert not results[0].mentions  # names in an embed ping nobody
    with pytest.raises(ScenarioError, match="disabled"):
        await fake.click(posted, right_id, user=fake.user("bob"))
    # Closing again (another process, a retry) changes nothing and posts no second results.
    assert await jobs.close_due(now=row.closes_at + timedelta(minutes=5)) == []


async def test_a_click_after_the_post_closed_is_refused(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake)
    schedule, _, when = await post_now(app, tutor)
    [posted] = quiz_posts(fake)
    row = await post_row(app, schedule.id)
    async with app.db.sessions.begin() as session:  # closed, buttons not yet edited
        await app.services.daily.close(session, row.id, when)
    late = await answer(fake, posted, app.course.questions[row.question_id], "alice", right=True)
    assert "has closed" in late.content
    assert await count(app, DailyAnswer) == 0


async def test_buttons_work_after_a_restart_between_post_and_close(
    fake: FakeDiscord, app: AppContext, make_app: AppFactory
) -> None:
    async with running_bot(fake, app) as running:
        first = running.client
        assert isinstance(first, TutorBot)
        await add_schedule(fake)
        schedule, _, _ = await post_now(app, first)
    [posted] = quiz_posts(fake)
    row = await post_row(app, schedule.id)
    question = app.course.questions[row.question_id]
    second_app = await make_app()
    async with running_bot(fake, second_app) as running:
        second = running.client
        assert isinstance(second, TutorBot)
        reply = await answer(fake, posted, question, "alice", right=True)
        assert "Answer recorded" in reply.content
        closed = await jobs_for(second_app, second).close_due(
            now=row.closes_at + timedelta(seconds=1)
        )
        assert closed == [row.id]
    assert all(b.get("disabled") for b in posted.buttons)


async def test_the_nonce_makes_a_resend_return_the_first_post(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake)
    schedule, _, _ = await post_now(app, tutor)
    row = await post_row(app, schedule.id)
    publisher = DiscordPublisher(tutor)
    async with app.db.sessions() as session:
        post = await app.services.daily.post_to_send(session, row.id)
    assert await publisher.post_daily(post) == row.message_id  # a retry within minutes
    assert fake.nonce_hits == 1 and len(quiz_posts(fake)) == 1
    assert await publisher.find_daily(post) == row.message_id  # later: found in history


# --- permissions -------------------------------------------------------------------------------


async def test_moderator_commands_need_manage_server_or_the_moderator_role(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    synced = fake.commands()
    for name in ("schedule", "config"):
        assert int(synced[name]["default_member_permissions"]) == 1 << 5  # Manage Server
        assert synced[name]["contexts"] == [0]  # servers only
    with pytest.raises(ScenarioError, match="lacks the permissions"):
        await run(fake, "alice", "schedule list")
    # An admin opens /schedule to the Mentor role under Integrations; the bot still checks.
    guild = fake.guild
    fake.allow_command(guild, "schedule", guild.role("Mentor"))
    refused = await run(fake, "mia", "schedule list")
    assert "Only moderators can do that" in refused.content and refused.ephemeral
    made = await run(fake, "course-owner", "config moderator-role", {"role": guild.role("Mentor")})
    assert "Moderator role" in made.content
    allowed = await run(fake, "mia", "schedule list")
    assert allowed.embed["title"] == "Daily quizzes"
    shown = await run(fake, "course-owner", "config show")
    assert "Integrations" in shown.embeds[1]["description"]


async def test_moderator_commands_and_answer_clicks_each_run_in_one_turn(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    stats = _interactions.STATS
    before = Counter(stats.started)
    failed = Counter(stats.failed)
    await add_schedule(fake)
    await run(fake, "course-owner", "config show")
    refused = await run(fake, "course-owner", "config moderator-role",
                        {"role": fake.guild.everyone})
    assert "not @everyone" in refused.content
    schedule, _, _ = await post_now(app, tutor)
    [posted] = quiz_posts(fake)
    question = app.course.questions[(await post_row(app, schedule.id)).question_id]
    await answer(fake, posted, question, "alice", right=True)
    await fake.wait_until(lambda: stats.started["button:dq"] > before["button:dq"],
                          what="the click was counted")
    for name in ("/schedule add", "/config show", "/config moderator-role", "button:dq"):
        assert stats.started[name] == before[name] + 1, name
    assert stats.failed["/config moderator-role"] == failed["/config moderator-role"] + 1
    assert stats.failed["/schedule add"] == failed["/schedule add"]
    assert app.admission.in_flight == 0


async def test_config_budget_may_only_be_lowered(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    operator = app.settings.ask.guild_daily_token_budget
    too_high = await run(fake, "course-owner", "config token-budget", {"tokens": operator + 1})
    assert "can only be lowered" in too_high.content
    lowered = await run(fake, "course-owner", "config token-budget", {"tokens": 1000})
    assert "1,000 tokens a day" in lowered.text
    async with app.db.sessions() as session:
        settings = await app.services.guild_config.get(session, fake.guild.id)
    assert settings.daily_token_budget == 1000


# --- failures --------------------------------------------------------------------------------


async def test_a_deleted_channel_pauses_the_schedule_and_dms_its_creator(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake, channel=fake.guild.channel("lessons"))
    [schedule] = await schedules(app, fake.guild.id)
    await fake.delete_channel(fake.guild.channel("lessons"))
    assert schedule.next_post_at is not None
    outcome = await jobs_for(app, tutor).fire(schedule.id, now=schedule.next_post_at)
    assert outcome is not None and outcome.paused
    [paused] = await schedules(app, fake.guild.id)
    assert paused.paused and paused.pause_reason
    dm = fake.messages_in(fake.dm_channel(fake.owner))
    assert len(dm) == 1 and f"Daily quiz #{schedule.id}" in dm[0].content
    assert "/schedule resume" in dm[0].content
    listed = await run(fake, "course-owner", "schedule list")
    assert "paused" in listed.embed["fields"][0]["value"]
    assert [r.status for r in fake.rejections] == [404]
    fake.rejections.clear()  # the refusal was the point of this test


async def test_a_missing_permission_pauses_and_tells_the_notice_channel(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await run(fake, "course-owner", "config notice-channel", {"channel": fake.guild.channel("ask")})
    await add_schedule(fake)
    [schedule] = await schedules(app, fake.guild.id)
    await fake.set_bot_channel_permissions(fake.guild.channel("general"), deny=SEND_MESSAGES)
    assert schedule.next_post_at is not None
    outcome = await jobs_for(app, tutor).fire(schedule.id, now=schedule.next_post_at)
    assert outcome is not None and outcome.paused
    notices = fake.messages_in(fake.guild.channel("ask"))
    assert len(notices) == 1 and "is paused" in notices[0].content
    assert not fake.messages_in(fake.dm_channel(fake.owner))
    assert [r.status for r in fake.rejections] == [403]
    fake.rejections.clear()  # the refusal was the point of this test


async def test_leaving_a_guild_pauses_its_schedules(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await add_schedule(fake)
    await fake.dispatch_raw("GUILD_DELETE", {"id": str(fake.guild.id)})
    await fake.wait_until(lambda: not tutor.guilds, what="the bot to leave")

    async def paused() -> bool:
        return all(s.paused for s in await schedules(app, fake.guild.id))

    for _ in range(50):
        if await paused():
            break
        await _sleep()
    assert await paused()


async def _sleep() -> None:
    await asyncio.sleep(0.05)



async def test_ask_works_only_in_the_configured_channels(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    ask_channel = fake.guild.channel("ask")
    await run(fake, "course-owner", "config ask-channel", {"channel": ask_channel})
    refused = await run(fake, "alice", "ask", {"question": "What is a token?"},
                        channel=fake.guild.channel("general"))
    assert refused.ephemeral and f"<#{ask_channel.id}>" in refused.content
    assert await count(app, AskLog) == 0
    await app.tutor()  # loaded (it starts loading with the bot)
    handle = await fake.slash(fake.user("alice"), "ask", {"question": "What is a token?"},
                              channel=ask_channel)
    answered = await fake.wait_until(
        lambda: next((m for m in handle.messages() if m.buttons), None), what="the answer"
    )
    assert not answered.ephemeral
    assert await count(app, AskLog) == 1
    removed = await run(fake, "course-owner", "config reset", {"setting": "ask-channels"})
    assert "every channel" in removed.text


async def test_a_daily_question_can_be_reported_from_the_results_and_the_answer(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    from bot.db.models import Feedback

    await add_schedule(fake)
    schedule, jobs, _ = await post_now(app, tutor)
    [posted] = quiz_posts(fake)
    row = await post_row(app, schedule.id)
    question = app.course.questions[row.question_id]
    reply = await answer(fake, posted, question, "alice", right=False)
    assert reply.button("\u2691 Report this question")
    await jobs.close_due(now=row.closes_at + timedelta(seconds=1))
    [results] = [m for m in fake.messages_in(fake.guild.channel("general"))
                 if m.embeds and "results" in m.embed.get("title", "")]
    picker = await (await fake.click(results, label="\u2691 Report this question",
                                     user=fake.user("bob"))).response()
    assert picker.ephemeral and "Pick a reason" in picker.content
    modal = await (await fake.click(picker, label="\u2753 The question is unclear",
                                    user=fake.user("bob"))).modal()
    thanks = await (await fake.submit_modal(modal, {"comment": "two answers fit"})).response()
    assert "saved" in thanks.content
    async with app.db.sessions() as session:
        [report] = list(await session.scalars(select(Feedback)))
    assert (report.kind, report.reason, report.question_id, report.learner_id) == (
        "question", "unclear", question.id, fake.user("bob").id)
