"""/progress and /leaderboard through the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Learner, ReviewCard
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


async def test_progress_shows_reviews_due_retention_and_the_days_ahead(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    first = await run(fake, "alice", "progress")
    fields = {field["name"]: field["value"] for field in first.embed["fields"]}
    assert "No questions to review yet" in fields["Reviews"]
    alice = fake.user("alice").id
    now = datetime.now(UTC)
    async with app.db.sessions.begin() as session:
        for n, (due, suspended) in enumerate([
            (now - timedelta(days=2), False), (now - timedelta(hours=1), False),
            (now + timedelta(days=3), False), (now - timedelta(days=1), True),
        ]):
            session.add(ReviewCard(learner_id=alice, question_id=f"fx.q{n}", due=due,
                                   stability=4.0, difficulty=5.0, state=2,
                                   last_review=now - timedelta(days=4), reps=1, lapses=0,
                                   suspended=suspended, created_at=now - timedelta(days=4)))
    reply = await run(fake, "alice", "progress")
    fields = {field["name"]: field["value"] for field in reply.embed["fields"]}
    assert fields["Reviews"].startswith("**2** due today \u00b7 predicted retention **")
    assert "over 3 questions" in fields["Reviews"] and "no server points" in fields["Reviews"]
    assert "**\u2013**" not in fields["Reviews"]  # a percentage, from the memory model
    (chart,) = reply.attachments
    assert chart.data.startswith(PNG_MAGIC)
    assert chart.image_size is not None and chart.image_size[1] > (
        first.attachments[0].image_size or (0, 0))[1]  # the reviews panel below the lessons


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
