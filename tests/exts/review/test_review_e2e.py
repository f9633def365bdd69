"""/review through the fake Discord: due questions most overdue first, the quiz's buttons and
verdicts, "I know this", "Reset", a double click counted once, nothing due, DMs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.base import utcnow
from bot.db.models import ReviewCard, ReviewLog
from bot.exts.quiz._render import KNOW_LABEL, RESET_LABEL
from bot.services.memory import FirstAnswer, MemoryModel
from bot.ui import custom_ids as ids
from tests.exts.conftest import click, count, run
from tests.exts.quiz.test_quiz_e2e import answer, button_for, current_question
from tests.fakediscord import FakeDiscord

#: Answered long ago, so all due now; the earliest answered is the most overdue.
PAST = [("fx-genai.q1", 40, True), ("fx-nn.q2", 20, True), ("fx-nn.q3", 12, True)]


async def _cards(app: AppContext, learner_id: int) -> None:
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, learner_id, "alice")
        for question, days_ago, right in PAST:
            await MemoryModel(fuzz=False).record(await session.connection(), [FirstAnswer(
                learner_id, question, right, utcnow() - timedelta(days=days_ago), "quiz")])


async def _card(app: AppContext, learner_id: int, question: str) -> ReviewCard:
    async with app.db.sessions() as session:
        card = await session.get(ReviewCard, (learner_id, question))
        assert card is not None
        return card


async def test_a_review_session_from_start_to_nothing_due(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    alice = fake.user("alice").id
    await _cards(app, alice)
    message = await run(fake, "alice", "review")
    assert message.ephemeral
    intro, first = message.embeds
    assert "3 questions due, most overdue first" in intro["description"]
    assert "DM" not in intro["description"]  # in a server, reviews earn points there
    assert first["title"] == "Review 1 of 3"
    assert current_question(app, message).id == "fx-genai.q1"  # the most overdue
    assert message.button(KNOW_LABEL) and message.button(RESET_LABEL)

    # A double click on the right answer: one answer, one card update, one review log.
    question = current_question(app, message)
    button = button_for(message, question, right=True)
    clicks = await asyncio.gather(*(fake.click(message, button["custom_id"], user=fake.user("alice"))
                                    for _ in range(2)))
    shown = [await handle.response() for handle in clicks]
    assert await count(app, ReviewLog, ReviewLog.source == "review") == 1
    # The click that recorded says when the question comes back; the repeat, that it was one.
    descriptions = [m.embeds[0]["description"] for m in shown]
    assert sum("Back for review <t:" in d for d in descriptions) <= 1
    message = shown[-1]
    verdict, following = message.embeds
    assert verdict["title"] == "\u2705 Right!"
    assert following["title"] == "Review 2 of 3"
    assert (await _card(app, alice, "fx-genai.q1")).due > utcnow() + timedelta(days=5)

    # "I know this" on the second: suspended, and the review moves on to the third.
    second = current_question(app, message)
    message = await click(fake, message, KNOW_LABEL, "alice")
    notice, third = message.embeds
    assert "won't come back for review" in notice["title"] and second.prompt in notice["description"]
    assert third["title"] == "Review 2 of 2"
    assert (await _card(app, alice, second.id)).suspended

    # "Reset" on the third: a private note; the question stays to be answered.
    last = current_question(app, message)
    note = await click(fake, message, RESET_LABEL, "alice")
    assert note.ephemeral and note.content.startswith("\u21ba Reset")
    reset = await _card(app, alice, last.id)
    assert reset.stability is None and reset.last_review is None and reset.reps == 0
    message = await answer(fake, app, message, "alice", right=False)
    assert message.embeds[1]["title"] == "Review finished: 1 of 2 right (50%)"
    assert (await _card(app, alice, last.id)).reps == 1  # a fresh card, reviewed once

    # Nothing is due now: when the next review is, and new questions.
    nothing = await click(fake, message, "\U0001f501 Review more", "alice")
    assert nothing.embed["title"] == "Nothing to review right now"
    assert "Your next review is <t:" in nothing.embed["description"]
    new = await click(fake, nothing, "\U0001f195 New questions", "alice")
    assert new.embed["title"].startswith("Question 1 of ")
    fresh = {key.question_id for b in new.buttons
             if isinstance(key := ids.decode(b["custom_id"]), ids.Answer | ids.AskNumber)}
    async with app.db.sessions() as session:
        carded = set(await session.scalars(
            select(ReviewCard.question_id).where(ReviewCard.learner_id == alice)))
    assert fresh and not fresh & carded


async def test_reviews_in_a_dm_say_they_earn_no_server_points(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    empty = await run(fake, "alice", "review", dm=True)
    assert empty.embed["title"] == "Nothing to review right now"
    assert "You have no questions to review yet" in empty.embed["description"]
    assert "no server points" in empty.embed["description"]
    await _cards(app, fake.user("alice").id)
    message = await run(fake, "alice", "review", {"questions": 1}, dm=True)
    intro, first = message.embeds
    assert "no server points" in intro["description"] and first["title"] == "Review 1 of 1"
    message = await answer(fake, app, message, "alice")
    assert message.embeds[1]["title"].startswith("Review finished: 1 of 1")
    async with app.db.sessions() as session:
        log = (await session.scalars(select(ReviewLog).where(ReviewLog.source == "review"))).one()
    assert log.guild_id is None


async def test_help_lists_review_right_after_quiz(fake: FakeDiscord, tutor: TutorBot) -> None:
    shown = await run(fake, "alice", "help")
    text = shown.content + "".join(e.get("description", "") + "".join(
        f.get("name", "") + f.get("value", "") for f in e.get("fields", [])) for e in shown.embeds)
    assert "/review [questions]" in text
    assert text.index("/quiz [lesson]") < text.index("/review [questions]") < text.index("/ask")
