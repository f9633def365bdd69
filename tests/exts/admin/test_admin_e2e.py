"""/admin reload through the fake Discord: the owner reloads the course live.

The course is shared by every guild, so /admin lives in the development guild only. A broken
file keeps the old course and the reply names file and line; a reload that removes a question
while a learner's quiz shows it leaves every old button working (the quiz goes on, nothing
recorded is lost), and /ask answers from the old index until the new one is built.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import AppContext
from bot.content.loader import load_course
from bot.db.models import QuizAnswer
from bot.runtime import CourseRuntime
from bot.services.tutor import AskRequest, TutorService
from bot.ui import custom_ids as ids
from tests.conftest import FIXTURE_LESSONS
from tests.exts.conftest import click, run, running_bot
from tests.exts.quiz.test_quiz_e2e import answer, current_question
from tests.fakediscord import FakeDiscord, FakeMessage, RunningClient
from tests.services.test_reload import NN_QUIZ, edit, line_of, remove_question

NN_LESSON = "02-neural-networks.md"


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    """The bot's lessons folder: a copy of the fixture course that the test edits."""
    folder = tmp_path / "lessons"
    shutil.copytree(FIXTURE_LESSONS, folder)
    return folder


@pytest.fixture
async def admin_bot(
    fake: FakeDiscord, app: AppContext, lessons: Path
) -> AsyncIterator[tuple[AppContext, RunningClient]]:
    """The bot over ``lessons``, with the classroom guild as its development guild."""
    guild = next(iter(fake.guilds.values()))
    discord_settings = app.settings.discord.model_copy(update={"dev_guild_id": guild.id})
    paths = app.settings.paths.model_copy(update={"lessons_dir": lessons})
    settings = app.settings.model_copy(update={"discord": discord_settings, "paths": paths})
    own = AppContext(settings=settings, db=app.db,
                     runtime=CourseRuntime.build(load_course(lessons), settings))
    try:
        async with running_bot(fake, own) as running:
            yield own, running
    finally:
        await own.stop()  # its workers (jobs, the reload watcher) end before the database goes


def remove_network_snippet(folder: Path) -> None:
    """Remove the snippet fx-nn.network and its question fx-nn.q3 (as an author would)."""
    remove_question(folder, "fx-nn.q3")
    path = folder / NN_LESSON
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("## A whole network")], encoding="utf-8")


async def reload_as(fake: FakeDiscord, user: str) -> FakeMessage:
    return await run(fake, user, "admin reload") if user != "owner" else (
        await (await fake.slash(fake.owner, "admin reload")).response()
    )


async def test_admin_reload_exists_only_in_the_development_guild_for_the_owner(
    fake: FakeDiscord, admin_bot: tuple[AppContext, RunningClient], lessons: Path
) -> None:
    app, _running = admin_bot
    guild = next(iter(fake.guilds.values()))
    assert "admin" in fake.commands(guild=guild)
    assert "admin" not in fake.commands()
    before = app.runtime
    remove_network_snippet(lessons)

    refused = await reload_as(fake, "alice")

    assert refused.ephemeral and "Only the bot's owner" in refused.text
    assert app.runtime is before


async def test_a_broken_file_keeps_the_course_and_the_reply_says_file_and_line(
    fake: FakeDiscord, admin_bot: tuple[AppContext, RunningClient], lessons: Path
) -> None:
    app, _running = admin_bot
    before = app.runtime
    edit(lessons / NN_QUIZ, 'answer = "nudge"', 'answer = "push"')

    reply = await reload_as(fake, "owner")

    line = line_of(lessons / NN_QUIZ, 'answer = "push"')
    assert reply.ephemeral and reply.embed["title"] == "Not reloaded: 1 problem"
    assert f"{NN_QUIZ}:{line}: question 'fx-nn.q2': answer 'push'" in reply.embed["description"]
    assert "keeps the course it has" in reply.embed["footer"]["text"]
    assert app.runtime is before
    # The course still works as before.
    page = await run(fake, "alice", "lesson", {"name": "fx-nn"})
    assert "Weights and biases" in page.text


async def test_removing_the_question_a_quiz_shows_keeps_every_old_button_working(
    fake: FakeDiscord, admin_bot: tuple[AppContext, RunningClient], lessons: Path
) -> None:
    app, _running = admin_bot
    # Alice answers one question of a three-question quiz; the next one is on her screen.
    quiz = await run(fake, "alice", "quiz", {"lesson": "fx-nn", "questions": 3})
    verdict = await answer(fake, app, quiz, "alice")
    first = verdict.embeds[0]
    shown = current_question(app, verdict)

    # The owner removes the question she is looking at and reloads.
    remove_question(lessons, shown.id)
    reply = await reload_as(fake, "owner")
    assert reply.ephemeral and reply.embed["title"] == "Course reloaded", reply.text
    assert f"questions: +0 -1 ~0 (removed: {shown.id})" in reply.embed["description"]
    assert "orphaned progress: none" in reply.embed["description"]
    assert shown.id not in app.course.questions

    # Her old button (a choice, or a numeric question's Answer): told kindly, and the quiz
    # goes on with the question still in the course.
    old_button = next(b["custom_id"] for b in verdict.buttons
                      if isinstance(ids.decode(b["custom_id"]), ids.Answer | ids.AskNumber))
    after = await (await fake.click(verdict, old_button, user=fake.user("alice"))).response()
    assert "This question was removed from the course" in after.text
    assert after.embed["title"] == "Question 2 of 2"
    done = await answer(fake, app, after, "alice")
    final = done.embeds[-1]["title"]
    assert final.startswith("Quiz finished: ") and " of 2 right" in final, final
    async with app.db.sessions() as session:
        recorded = (await session.execute(select(QuizAnswer.question_id))).scalars().all()
    assert len(recorded) == 2 and shown.id not in recorded  # her first answer is kept
    assert first["title"] in ("\u2705 Right!", "\u274c Not quite")


async def test_a_page_of_a_removed_snippet_and_progress_on_it_break_nothing(
    fake: FakeDiscord, admin_bot: tuple[AppContext, RunningClient], lessons: Path
) -> None:
    app, _running = admin_bot
    # Alice reads to the last part of the lesson and answers its question.
    page = await run(fake, "alice", "lesson", {"name": "fx-nn"})
    page = await click(fake, page, "Next \u25b6", "alice")
    page = await click(fake, page, "Next \u25b6", "alice")
    assert "A whole network" in page.text
    async with app.db.sessions.begin() as session:
        view = await app.services.quiz.start(session, fake.user("alice").id, guild_id=None,
                                             lesson_id="fx-nn", count=3)
        await app.services.quiz.record_answer(session, view.attempt_id, fake.user("alice").id,
                                              "fx-nn.q3", choice_id="true")

    remove_network_snippet(lessons)
    reply = await reload_as(fake, "owner")
    description = reply.embed["description"]
    assert "snippets: +0 -1 ~0 (removed: fx-nn.network)" in description
    assert "orphaned progress (kept):" in description and "quiz_answer" in description
    assert "snippet_view" in description

    # The buttons of the page of the removed snippet: Mark done says what happened, and
    # Previous takes her back to where she can go on.
    done = await click(fake, page, "\u2713 Mark done", "alice")
    assert done.ephemeral and "changed since this page was opened" in done.text
    moved = await click(fake, page, "\u25c0 Previous", "alice")
    assert moved.embeds and "A whole network" not in moved.text
    # Commands that read progress of removed content answer normally.
    for command in ("progress", "leaderboard", "course"):
        answered = await run(fake, "alice", command)
        assert answered.embeds, command
    analysis = await (await fake.slash(fake.owner, "maintain questions")).response()
    assert analysis.text


async def test_ask_answers_from_the_old_index_until_the_new_one_is_built(
    fake: FakeDiscord, admin_bot: tuple[AppContext, RunningClient], lessons: Path
) -> None:
    app, _running = admin_bot
    tutor: TutorService = await app.tutor()
    old_runtime = tutor.runtime
    edit(lessons / NN_LESSON, "## Weights and biases", "## Weights, biases and offsets")

    # The rebuild swaps its index in under the tutor's lock; holding it shows the moment
    # between the course swap and the new index, however fast the machine embeds.
    async with app._tutor_lock:
        outcome = await app.reloads.reload()
        assert outcome.ok and app.course is outcome.course
        result = await tutor.ask(app.db.sessions, AskRequest(1, "What is a bias?", engine="local"))
        assert tutor.runtime is old_runtime
        assert any(c.title == "Weights and biases" for c in result.citations), result.citations
    for _ in range(600):  # the embedding runs in a thread; a loaded machine takes a while
        if tutor.runtime is not old_runtime:
            break
        await asyncio.sleep(0.1)
    assert tutor.runtime.course is app.course
    result = await tutor.ask(app.db.sessions, AskRequest(1, "What is a bias?", engine="local"),
                             rate_limit=False)
    assert any(c.title == "Weights, biases and offsets" for c in result.citations)
