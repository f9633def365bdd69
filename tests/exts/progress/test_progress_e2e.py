"""/progress and /leaderboard through the fake Discord."""

from __future__ import annotations

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Learner
from tests.exts.conftest import count, run
from tests.exts.quiz.test_quiz_e2e import answer, start
from tests.fakediscord import FakeDiscord

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
