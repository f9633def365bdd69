"""/quiz: private questions, answers recorded exactly once, explanations, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from sqlalchemy import delete, select

from bot.app import AppContext
from bot.bot import TutorBot
from bot.content.model import Question, QuestionKind
from bot.db.models import QuizAnswer, QuizAttempt
from bot.ui import custom_ids as ids
from tests.exts.conftest import AppFactory, click, count, run, running_bot
from tests.fakediscord import FakeDiscord, FakeMessage

LETTERS = "ABCDE"


def current_question(app: AppContext, message: FakeMessage) -> Question:
    """The question whose answer buttons the quiz message shows now."""
    for button in message.buttons:
        key = ids.decode(button["custom_id"])
        if isinstance(key, ids.Answer | ids.AskNumber):
            return app.course.questions[key.question_id]
    raise AssertionError(f"no question on {message!r}")


def button_for(message: FakeMessage, question: Question, *, right: bool) -> dict[str, Any]:
    """The button of a right (or a wrong) choice."""
    for button in message.buttons:
        key = ids.decode(button["custom_id"])
        mine = isinstance(key, ids.Answer) and key.question_id == question.id
        if mine and (key.choice_id == question.answer_choice) == right:  # type: ignore[union-attr]
            return button
    raise AssertionError(f"no {'right' if right else 'wrong'} choice for {question.id}")


async def answer(
    fake: FakeDiscord, app: AppContext, message: FakeMessage, user: str, *, right: bool = True
) -> FakeMessage:
    """Answer the question the message shows (choices by button, numbers through the modal)."""
    question = current_question(app, message)
    if question.kind is QuestionKind.NUMERIC:
        opened = await fake.click(message, label="\u270f\ufe0f Answer", user=fake.user(user))
        modal = await opened.modal()
        assert question.answer_number is not None
        value = question.answer_number if right else question.answer_number + 1000
        submitted = await fake.submit_modal(modal, {"value": f"{value:g}"})
        return await submitted.response()
    button = button_for(message, question, right=right)
    handle = await fake.click(message, button["custom_id"], user=fake.user(user))
    return await handle.response()


async def start(
    fake: FakeDiscord, user: str = "alice", *, dm: bool = False, **options: Any
) -> FakeMessage:
    """``user`` runs /quiz with ``options``; the first question."""
    return await run(fake, user, "quiz", options or None, dm=dm)


async def test_a_whole_quiz_with_explanations_and_a_score(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-genai", questions=3)
    assert message.ephemeral and message.embed["title"] == "Question 1 of 3"
    verdicts = []
    for number in range(3):
        right = number != 1  # get the second one wrong
        message = await answer(fake, app, message, "alice", right=right)
        verdict = message.embeds[0]
        verdicts.append(verdict)
        assert verdict["title"] == ("\u2705 Right!" if right else "\u274c Not quite")
        assert "Read more: Lesson 1 - What generative AI is \u203a " in verdict["description"]
        if not right:
            assert "Right answer:" in verdict["description"]
        if number < 2:
            assert message.embeds[1]["title"] == f"Question {number + 2} of 3"
    assert message.embeds[1]["title"] == "Quiz finished: 2 of 3 right (67%)"
    assert message.button("\U0001f501 Quiz again")
    alice = fake.user("alice").id
    assert await count(app, QuizAnswer, QuizAnswer.learner_id == alice) == 3
    assert await count(app, QuizAttempt, QuizAttempt.finished_at.is_not(None)) == 1
    explanations = {q.explanation for q in app.course.lesson("fx-genai").questions}  # type: ignore[union-attr]
    assert all(any(e in v["description"] for e in explanations) for v in verdicts)

    # The last verdict links to the part of the course it tests: open it, privately.
    read_label = next(b["label"] for b in message.buttons if b["label"].startswith("\U0001f4d6"))
    page = await click(fake, message, read_label, "alice")
    assert page.ephemeral and page is not message
    assert read_label.endswith(page.embed["title"])
    assert page.button("Next \u25b6") or page.button("Next lesson \u25b6")
    # And another round on the same lesson.
    again = await click(fake, message, "\U0001f501 Quiz again", "alice")
    assert again.ephemeral and again.embed["title"] == "Question 1 of 3"  # all it has
    assert again.embed["author"]["name"] == "Lesson 1 - What generative AI is"
    assert await count(app, QuizAttempt) == 2


async def test_quiz_autocomplete_and_question_count(fake: FakeDiscord, tutor: TutorBot) -> None:
    choices = await fake.autocomplete(fake.user("alice"), "quiz", "lesson", "what")
    assert choices == [{"name": "1. What generative AI is", "value": "fx-genai"}]
    message = await start(fake, questions=2)
    assert message.embed["title"] == "Question 1 of 2"
    unknown = await start(fake, lesson="no such lesson")
    assert unknown.ephemeral and "I can't find a lesson called" in unknown.content


async def test_a_double_click_records_one_answer(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-nn", questions=3)
    question = current_question(app, message)
    if question.kind is QuestionKind.NUMERIC:  # get to a question with buttons
        message = await answer(fake, app, message, "alice")
        question = current_question(app, message)
    button = button_for(message, question, right=False)
    alice = fake.user("alice")
    first, second = await asyncio.gather(
        fake.click(message, button["custom_id"], user=alice),
        fake.click(message, button["custom_id"], user=alice),
    )
    await first.response()
    await second.response()
    assert await count(app, QuizAnswer, QuizAnswer.question_id == question.id) == 1
    # Both clicks show the recorded (wrong) answer; exactly one says it was already answered.
    shown = [
        handle.callback_data["embeds"][0] for handle in (first, second) if handle.callback_data
    ]
    assert [embed["title"] for embed in shown] == ["\u274c Not quite"] * 2
    repeats = sorted("already answered" in embed["footer"]["text"] for embed in shown)
    assert repeats == [False, True]


async def test_a_wrong_number_or_words_in_the_modal(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-nn", questions=3)
    while current_question(app, message).kind is not QuestionKind.NUMERIC:
        message = await answer(fake, app, message, "alice")
    question = current_question(app, message)
    opened = await fake.click(message, label="\u270f\ufe0f Answer", user=fake.user("alice"))
    modal = await opened.modal()
    assert "parameters" in (modal.label_of("value") or "")
    words = await fake.submit_modal(modal, {"value": "ten-ish"})
    complaint = await words.response()
    assert complaint.ephemeral and "is not a number" in complaint.content
    assert await count(app, QuizAnswer, QuizAnswer.question_id == question.id) == 0
    again = await fake.click(message, label="\u270f\ufe0f Answer", user=fake.user("alice"))
    submitted = await fake.submit_modal(await again.modal(), {"value": " 1,0 "})
    verdict = await submitted.response()
    assert verdict is message and "Your answer: 1 parameters" in verdict.embeds[0]["description"]
    assert await count(app, QuizAnswer, QuizAnswer.question_id == question.id) == 1


async def test_a_quiz_in_a_dm_counts_for_no_server(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, "dora", dm=True, lesson="fx-genai", questions=1)
    assert message.channel.is_dm
    message = await answer(fake, app, message, "dora")
    assert message.embeds[1]["title"].startswith("Quiz finished: 1 of 1")
    async with app.db.sessions() as session:
        guilds = set(await session.scalars(select(QuizAnswer.guild_id)))
    assert guilds == {None}


async def test_a_quiz_that_no_longer_exists(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    message = await start(fake, lesson="fx-genai", questions=3)
    async with app.db.sessions.begin() as session:
        await session.execute(delete(QuizAttempt))
    question = current_question(app, message)
    target = (
        button_for(message, question, right=True)
        if question.kind is not QuestionKind.NUMERIC
        else None
    )
    if target is None:
        opened = await fake.click(message, label="\u270f\ufe0f Answer", user=fake.user("alice"))
        reply = await (await fake.submit_modal(await opened.modal(), {"value": "1"})).response()
    else:
        reply = await (
            await fake.click(message, target["custom_id"], user=fake.user("alice"))
        ).response()
    assert reply.ephemeral and "That quiz no longer exists" in reply.content
    assert await count(app, QuizAnswer) == 0


async def test_a_button_of_an_older_scheme_is_refused_politely(
    fake: FakeDiscord, tutor: TutorBot
) -> None:
    # The bot itself posts a message with a button of a scheme it no longer reads.
    channel = tutor.get_channel(fake.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="old", custom_id="tb0:answer:1:2:3"))
    sent = await channel.send("an old quiz", view=view)
    old = fake.messages[sent.id]
    reply = await click(fake, old, "old", "alice")
    assert reply.ephemeral and "no longer works" in reply.content


async def test_old_buttons_work_after_a_restart_and_nothing_is_lost_or_doubled(
    fake: FakeDiscord, make_app: AppFactory
) -> None:
    first_app = await make_app()
    async with running_bot(fake, first_app):
        message = await start(fake, lesson="fx-genai", questions=3)
        message = await answer(fake, first_app, message, "alice")
        assert await count(first_app, QuizAnswer) == 1
    # The first bot is gone; a new "process" (new engine, new services, new bot) takes over.
    second_app = await make_app()
    async with running_bot(fake, second_app):
        assert current_question(second_app, message)  # the old message still shows question 2
        message = await answer(fake, second_app, message, "alice", right=False)
        assert message.embeds[0]["title"] == "\u274c Not quite"
        assert message.embeds[1]["title"] == "Question 3 of 3"
        message = await answer(fake, second_app, message, "alice")
        assert message.embeds[1]["title"] == "Quiz finished: 2 of 3 right (67%)"
    assert await count(second_app, QuizAnswer) == 3
    assert await count(second_app, QuizAttempt) == 1
    # The command tree did not change, so the second start did not sync again.
    assert len(fake.sync_calls) == 1


async def test_a_click_on_a_stale_copy_of_an_answered_question_shows_the_recorded_answer(
    fake: FakeDiscord, make_app: AppFactory
) -> None:
    app = await make_app()
    async with running_bot(fake, app):
        message = await start(fake, lesson="fx-genai", questions=3)
        question = current_question(app, message)
        if question.kind is QuestionKind.NUMERIC:
            message = await answer(fake, app, message, "alice")
            question = current_question(app, message)
        wrong = button_for(message, question, right=False)["custom_id"]
        right = button_for(message, question, right=True)["custom_id"]
        alice = fake.user("alice")
        first = await fake.click(message, wrong, user=alice)
        await first.response()
        # The learner's other device still shows the question as it was before the edit.
        message.components = message.versions[-1]["components"]
        second = await fake.click(message, right, user=alice)
        shown = await second.response()
        assert "already answered" in shown.embeds[0]["footer"]["text"]
        assert shown.embeds[0]["title"] == "\u274c Not quite"  # the first answer counts
    assert await count(app, QuizAnswer, QuizAnswer.question_id == question.id) == 1
