"""/progress, /leaderboard, /settings, /help, deferral and the error handler."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.app import AppContext
from bot.db.models import Learner
from bot.discord_app import TutorBot
from bot.exts import _interactions
from tests.discord_e2e.conftest import count, run, running_bot
from tests.discord_e2e.test_e2e_quiz import answer, start
from tests.fakediscord import FakeDiscord
from tests.fakediscord._world import MANAGE_MESSAGES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_progress_defers_then_shows_a_chart(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-genai", questions=3)
    for right in (True, False, True):
        message = await answer(fake, app, message, "alice", right=right)
    handle = await fake.slash(fake.user("alice"), "progress")
    # Drawing the chart takes a while: the bot defers first, then fills in the answer.
    assert await handle.acknowledgement() == 5
    reply = await handle.response()
    assert reply.ephemeral and not reply.loading
    embed = reply.embed
    assert embed["title"] == "Progress of alice"
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Quiz accuracy"] == "67% (2/3 right)"
    assert fields["Streak"].startswith("\U0001f525 1 day")
    assert fields["Points"] == "2 points \u00b7 rank #1 in this server"
    assert "0/2 done" in fields["Lessons"]
    assert "**1.** What generative AI is \u2013 read 0/3, quiz 2/3" in embed["description"]
    assert embed["image"]["url"] == "attachment://progress.png"
    (chart,) = reply.attachments
    assert chart.filename == "progress.png" and chart.data.startswith(PNG_MAGIC)


async def test_progress_of_another_member_a_newcomer_and_a_bot(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    await run(fake, "bob", "lesson")
    about_bob = await run(fake, "alice", "progress", {"member": fake.user("bob")})
    assert about_bob.embed["title"] == "Progress of bob"
    assert "read 1/3" in about_bob.embed["description"]
    newcomer = await run(fake, "alice", "progress", {"member": fake.user("mia")})
    assert newcomer.ephemeral and "mia has not started the course yet" in newcomer.content
    a_bot = await run(fake, "alice", "progress", {"member": fake.bot_user})
    assert "Bots don't take the course" in a_bot.content
    assert await count(app, Learner, Learner.id == fake.user("mia").id) == 0


async def test_leaderboard_of_the_server_and_in_a_dm(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    for user, rights in (("alice", (True, True, True)), ("bob", (True, False, False))):
        message = await start(fake, user, lesson="fx-genai", questions=3)
        for right in rights:
            message = await answer(fake, app, message, user, right=right)
    board = await run(fake, "mia", "leaderboard")
    assert not board.ephemeral
    assert board.embed["title"] == "Top learners of GenAI course, all time"
    lines = board.embed["description"].split("\n")
    assert lines == ["\U0001f947 **alice** \u00b7 3 points", "\U0001f948 **bob** \u00b7 1 point"]
    weekly = await run(fake, "mia", "leaderboard", {"period": "week"})
    assert weekly.embed["title"].endswith("this week") and "alice" in weekly.embed["description"]
    in_dm = await run(fake, "alice", "leaderboard", dm=True)
    assert in_dm.ephemeral and "per server" in in_dm.content


async def test_an_empty_leaderboard_invites_to_quiz(fake: FakeDiscord, tutor: TutorBot) -> None:
    board = await run(fake, "alice", "leaderboard", {"period": "week"})
    assert "No points yet this week" in board.embed["description"]


async def test_settings_timezone_with_autocomplete(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    alice = fake.user("alice")
    choices = await fake.autocomplete(alice, "settings timezone", "zone", "berl")
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices
    assert len(await fake.autocomplete(alice, "settings timezone", "zone", "")) > 0
    assert await fake.autocomplete(alice, "settings timezone", "zone", "\u0000" * 100) == []
    saved = await run(fake, "alice", "settings timezone", {"zone": "europe/berlin"})
    assert saved.ephemeral and "**Europe/Berlin**" in saved.content
    async with app.db.sessions() as session:
        learner = await session.get(Learner, alice.id)
    assert learner is not None and learner.timezone == "Europe/Berlin"
    refused = await run(fake, "alice", "settings timezone", {"zone": "Mars/Olympus_Mons"})
    assert refused.ephemeral and "I don't know the time zone" in refused.content
    in_dm = await run(fake, "dora", "settings timezone", {"zone": "Asia/Tokyo"}, dm=True)
    assert "**Asia/Tokyo**" in in_dm.content


async def test_help_is_shown_per_role(fake: FakeDiscord, tutor: TutorBot) -> None:
    moderators = fake.add_role(fake.guild, "Moderator", permissions=MANAGE_MESSAGES)
    fake.add_member(fake.guild, fake.user("dora"), roles=(moderators.name,))

    def sections(message_text: str) -> tuple[bool, bool]:
        return "For moderators" in message_text, "For maintainers" in message_text

    learner = await run(fake, "alice", "help")
    assert learner.ephemeral
    assert "/lesson [name]" in learner.text and "/settings timezone <zone>" in learner.text
    assert "/quiz [lesson] [questions]" in learner.text and "/progress [member]" in learner.text
    assert sections(learner.text) == (False, False)
    assert sections((await run(fake, "dora", "help")).text) == (True, False)
    assert sections((await run(fake, "course-owner", "help")).text) == (True, True)
    assert sections((await run(fake, "course-owner", "help", dm=True)).text) == (False, False)


async def test_every_reply_still_works_when_the_bot_must_defer(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if every transaction were slow: the bot defers before each answer, then follows up.
    monkeypatch.setattr(_interactions, "DEFER_AFTER_S", 0.0)
    handle = await fake.slash(fake.user("alice"), "lesson")
    assert await handle.acknowledgement() == 5
    page = await handle.response()
    assert page.embed["title"] == "Creating versus classifying" and not page.loading
    clicked = await fake.click(page, label="Next \u25b6", user=fake.user("alice"))
    assert await clicked.acknowledgement() == 6  # deferred update, then the page is edited
    assert (await clicked.response()).embed["title"] == "What a parameter is"
    message = await start(fake, lesson="fx-genai", questions=3)
    message = await answer(fake, app, message, "alice")
    assert message.embeds[0]["title"] == "\u2705 Right!"
    assert (await run(fake, "alice", "course")).ephemeral
    assert "alice" in (await run(fake, "alice", "leaderboard")).embed["description"]


async def test_an_unexpected_error_is_logged_with_an_id_the_learner_sees(
    fake: FakeDiscord, app: AppContext, caplog: pytest.LogCaptureFixture, errors_expected: None
) -> None:
    async with running_bot(fake, app) as running:
        bot = running.client
        assert isinstance(bot, TutorBot)

        async def explode(interaction) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug")

        bot.tree.add_command(
            app_commands.Command(name="explode", description="A bug.", callback=explode)
        )
        await bot.tree.sync()
        reply = await run(fake, "alice", "explode")
        assert reply.ephemeral and "Sorry, something went wrong" in reply.content
        error_id = reply.content.split("`")[1]
        logged = [r for r in caplog.records if r.name == "bot.exts._errors"]
        assert any(error_id in r.getMessage() and r.exc_info for r in logged)
        # The bot keeps running and answering.
        assert (await run(fake, "alice", "course")).ephemeral
