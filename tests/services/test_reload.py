"""Live course reloads: validated first, swapped at once, followed by other processes.

Each test copies the fixture course into its own folder and edits the files as an author
would; two application contexts on one database stand for two bot processes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.content.loader import load_course
from bot.db.engine import open_database
from bot.db.models import QuizAnswer, QuizAttempt
from bot.db.models.daily import DailyAnswer
from bot.errors import NotFoundError
from bot.runtime import CourseRuntime
from bot.services.quiz import QuestionRemovedError
from bot.services.reload import CONTENT_HASH_KEY, CourseDiff, ReloadWatcher, publish_folder
from bot.settings import Settings
from tests.conftest import FIXTURE_LESSONS
from tests.services.test_daily import NOW, _posted, _schedule

NN_QUIZ = "02-neural-networks.quiz.toml"

AppMaker = Callable[[Path], Awaitable[AppContext]]


def course_copy(tmp_path: Path, name: str) -> Path:
    """A lessons folder of our own, a copy of the fixture course."""
    folder = tmp_path / name
    shutil.copytree(FIXTURE_LESSONS, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) with ``new`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def remove_question(folder: Path, question_id: str) -> None:
    """Delete one ``[[question]]`` table from the quiz file that has it."""
    for path in sorted(folder.glob("*.quiz.toml")):
        blocks = path.read_text(encoding="utf-8").split("[[question]]")
        kept = [b for b in blocks if f'id = "{question_id}"' not in b]
        if len(kept) < len(blocks):
            path.write_text("[[question]]".join(kept), encoding="utf-8")
            return
    raise AssertionError(f"no question {question_id} in {folder}")


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture
async def make_app(database_url: str, settings: Settings) -> AsyncIterator[AppMaker]:
    """Application contexts ("processes") on one database, each over its own lessons folder."""
    made: list[AppContext] = []

    async def make(folder: Path) -> AppContext:
        paths = settings.paths.model_copy(update={"lessons_dir": folder})
        own = settings.model_copy(update={"paths": paths})
        db = await open_database(database_url)
        app = AppContext(settings=own, db=db, runtime=CourseRuntime.build(load_course(folder), own))
        made.append(app)
        return app

    yield make
    for app in made:
        await app.close()


async def published(app: AppContext) -> str | None:
    async with app.db.sessions() as session:
        return await app.services.state.read(session, CONTENT_HASH_KEY)


async def test_a_broken_lesson_file_keeps_the_old_course_and_says_file_and_line(
    tmp_path: Path, make_app: AppMaker
) -> None:
    folder = course_copy(tmp_path, "lessons")
    app = await make_app(folder)
    before = app.runtime
    edit(folder / NN_QUIZ, 'answer = "nudge"', 'answer = "push"')

    outcome = await app.reloads.reload()

    assert not outcome.ok
    line = line_of(folder / NN_QUIZ, 'answer = "push"')
    where = rf"(^|/){re.escape(NN_QUIZ)}:{line}: .*'push'"
    assert any(re.search(where, p) for p in outcome.problems), outcome.problems
    assert app.runtime is before  # nothing swapped
    assert await published(app) is None  # nothing told to the other processes
    assert "NOT reloaded" in outcome.summary() and f"{NN_QUIZ}:{line}:" in outcome.summary()


async def test_a_valid_reload_swaps_at_once_publishes_the_hash_and_reports_orphans(
    tmp_path: Path, make_app: AppMaker
) -> None:
    folder = course_copy(tmp_path, "lessons")
    app = await make_app(folder)
    old = app.runtime
    # A learner's answer to the question about to be removed: progress that will be orphaned.
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, 42, "ada")
        view = await app.services.quiz.start(session, 42, guild_id=None, lesson_id="fx-nn", count=3)
        attempt = view.attempt_id
        await app.services.quiz.record_answer(session, attempt, 42, "fx-nn.q3", choice_id="true")
    remove_question(folder, "fx-nn.q3")
    edit(folder / NN_QUIZ, "What does a bias do in a neuron?", "What does a neuron's bias do?")

    outcome = await app.reloads.reload()

    assert outcome.ok, outcome.problems
    assert app.runtime is not old and "fx-nn.q3" not in app.course.questions
    assert "fx-nn.q3" in old.course.questions  # interactions in flight keep the old runtime
    assert app.services.quiz.course is app.course  # course and services swapped together
    assert outcome.diff == CourseDiff.between(old.course, app.course)
    text = outcome.summary()
    assert "questions: +0 -1 ~1 (removed: fx-nn.q3)" in text
    assert "lessons: +0 -0 ~0" in text
    assert "orphaned progress (kept): 1 quiz_answer row(s)" in text and "fx-nn.q3" in text
    assert await published(app) == app.course.content_hash
    # The orphaned answer is kept, and a second reload of the same files changes nothing.
    again = await app.reloads.reload()
    assert again.ok and again.unchanged and "unchanged" in again.summary()


async def test_another_process_follows_a_reload_only_from_a_folder_that_hashes_the_same(
    tmp_path: Path, make_app: AppMaker, caplog: pytest.LogCaptureFixture
) -> None:
    first_folder = course_copy(tmp_path, "first")
    second_folder = course_copy(tmp_path, "second")
    first = await make_app(first_folder)
    second = await make_app(second_folder)
    # Only reloads published after a process loaded its folder count (not older ones).
    assert await second.reloads.follow() is None  # nothing published yet

    remove_question(first_folder, "fx-nn.q3")
    assert (await first.reloads.reload()).ok
    kept = second.runtime

    # The second process's folder was not updated: it warns once and keeps its course.
    with caplog.at_level(logging.WARNING, logger="bot.services.reload"):
        refused = await second.reloads.follow()
        assert await second.reloads.follow() is None  # the same publication: no second warning
    assert refused is not None and not refused.ok
    assert second.runtime is kept and "fx-nn.q3" in second.course.questions
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "differs" in warnings[0] and str(second_folder) in warnings[0]

    # Its folder is brought up to date and the operator publishes again: now it follows.
    remove_question(second_folder, "fx-nn.q3")
    republished = await publish_folder(second.db, second_folder)
    assert republished.ok and republished.unchanged
    followed = await second.reloads.follow()
    assert followed is not None and followed.ok, followed
    assert "fx-nn.q3" not in second.course.questions
    assert second.course.content_hash == first.course.content_hash
    assert await second.reloads.follow() is None


async def test_a_process_whose_folder_is_broken_keeps_its_course(
    tmp_path: Path, make_app: AppMaker
) -> None:
    first_folder = course_copy(tmp_path, "first")
    second_folder = course_copy(tmp_path, "second")
    first = await make_app(first_folder)
    second = await make_app(second_folder)
    assert await second.reloads.follow() is None
    edit(second_folder / NN_QUIZ, 'answer = "nudge"', 'answer = "push"')
    remove_question(first_folder, "fx-nn.q3")
    assert (await first.reloads.reload()).ok
    kept = second.runtime

    refused = await second.reloads.follow()

    assert refused is not None and not refused.ok and "problem" in refused.problems[0]
    assert second.runtime is kept


async def test_publishing_an_invalid_folder_publishes_nothing(
    tmp_path: Path, make_app: AppMaker
) -> None:
    folder = course_copy(tmp_path, "lessons")
    app = await make_app(folder)
    (folder / "03-bad name.md").write_text("# no front matter\n", encoding="utf-8")

    outcome = await publish_folder(app.db, folder)

    assert not outcome.ok and any("03-bad name.md:1:" in p for p in outcome.problems)
    assert await published(app) is None


async def test_a_quiz_open_across_a_reload_skips_removed_questions_and_loses_nothing(
    tmp_path: Path, make_app: AppMaker
) -> None:
    folder = course_copy(tmp_path, "lessons")
    app = await make_app(folder)
    async with app.db.sessions.begin() as session:
        await app.services.learners.ensure(session, 7, "ada")
        first = await app.services.quiz.start(session, 7, guild_id=None, lesson_id="fx-nn", count=3)
    async with app.db.sessions() as session:
        order = list(await session.scalar(
            select(QuizAttempt.question_ids).where(QuizAttempt.id == first.attempt_id)
        ) or [])
    assert len(order) == 3
    # The question on screen now, and the one after it, are both removed by a reload.
    remove_question(folder, order[0])
    remove_question(folder, order[1])
    assert (await app.reloads.reload()).ok
    quiz = app.services.quiz

    # The old button of a removed question: nothing recorded, the quiz goes on with the last.
    with pytest.raises(QuestionRemovedError) as removed:
        async with app.db.sessions.begin() as session:
            await quiz.record_answer(session, first.attempt_id, 7, order[0], choice_id="true")
    assert "removed from the course" in str(removed.value)
    async with app.db.sessions.begin() as session:
        following = await quiz.next_question(session, first.attempt_id, 7)
        assert following is not None and following.question.id == order[2]
        assert (following.number, following.total) == (1, 1)
        answer = following.question.answer_choice
        value = following.question.answer_number
        result = await quiz.record_answer(
            session, first.attempt_id, 7, order[2], choice_id=answer,
            value=value if answer is None else None,
        )
    assert result.correct and result.score.finished and result.next_question is None
    assert (result.score.answered, result.score.total) == (1, 1)
    async with app.db.sessions() as session:
        answers = (await session.execute(select(QuizAnswer.question_id))).scalars().all()
    assert answers == [order[2]]


async def test_a_daily_quiz_whose_question_was_removed_refuses_answers_and_closes_quietly(
    tmp_path: Path, make_app: AppMaker
) -> None:
    folder = course_copy(tmp_path, "lessons")
    app = await make_app(folder)
    post_id = await _posted(app, await _schedule(app))
    async with app.db.sessions() as session:
        question = (await app.services.daily.state(session, post_id, NOW)).question
    batcher = app.answers
    batcher.clock = lambda: NOW + timedelta(minutes=1)
    assert question.answer_choice is not None
    first = await batcher.record(post_id, 1, question.answer_choice, display_name="ada")
    remove_question(folder, question.id)
    assert (await app.reloads.reload()).ok

    with pytest.raises(NotFoundError, match="removed from the course"):
        await batcher.record(post_id, 2, question.answer_choice)
    close_at = NOW + timedelta(hours=23)
    async with app.db.sessions.begin() as session:
        assert await app.services.daily.close(session, post_id, close_at) is None
    async with app.db.sessions() as session:
        assert await app.services.daily.due_to_close(session, close_at + timedelta(days=1)) == []
        kept = await session.scalar(select(func.count()).select_from(DailyAnswer))
    assert first.correct and kept == 1  # the answer given before the reload is kept


async def test_the_watcher_worker_follows_a_published_reload_in_the_background(
    tmp_path: Path, make_app: AppMaker
) -> None:
    first_folder = course_copy(tmp_path, "first")
    second_folder = course_copy(tmp_path, "second")
    first = await make_app(first_folder)
    second = await make_app(second_folder)
    watcher = ReloadWatcher(second.reloads, poll_seconds=1)
    second.register_worker(watcher)
    await second.start()
    try:
        for folder in (first_folder, second_folder):  # the operator updates both folders
            remove_question(folder, "fx-nn.q3")
        assert (await first.reloads.reload()).ok
        for _ in range(600):  # one poll a second; a loaded machine may take longer
            if "fx-nn.q3" not in second.course.questions:
                break
            await asyncio.sleep(0.1)
        assert second.course.content_hash == first.course.content_hash
    finally:
        await second.stop()  # stops the watcher with the app's other workers


async def test_a_process_started_after_a_publication_keeps_the_folder_it_loaded(
    tmp_path: Path, make_app: AppMaker, caplog: pytest.LogCaptureFixture
) -> None:
    first_folder = course_copy(tmp_path, "first")
    first = await make_app(first_folder)
    remove_question(first_folder, "fx-nn.q3")
    assert (await first.reloads.reload()).ok
    # Started later, with other files: what it loaded at start is what it serves, silently.
    later = await make_app(course_copy(tmp_path, "later"))
    with caplog.at_level(logging.WARNING, logger="bot.services.reload"):
        assert await later.reloads.follow() is None
    assert "fx-nn.q3" in later.course.questions and not caplog.records
