"""/course, /lesson and the lesson page buttons, through the fake Discord."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.app import AppContext
from bot.bot import TutorBot
from bot.content.loader import load_course
from bot.db.engine import open_database
from bot.db.models import Learner, LessonProgress, SnippetView
from bot.runtime import CourseRuntime
from bot.settings import Settings
from bot.ui import custom_ids as ids
from tests.exts.conftest import click, count, run, running_bot
from tests.fakediscord import FakeDiscord


async def test_slash_commands_are_synced_for_servers_and_bot_dms(
    fake: FakeDiscord, tutor: TutorBot
) -> None:
    commands = fake.commands()
    assert {"course", "lesson", "quiz", "progress", "leaderboard", "settings", "help"} <= set(
        commands
    )
    staff = {"schedule", "config", "maintain"}  # servers only, Manage Server by default
    for name, command in commands.items():
        # a server, and a DM with the bot (moderator commands: a server only)
        assert sorted(command["contexts"]) == ([0] if name in staff else [0, 1])
        assert command["integration_types"] == [0]  # installed to servers
        assert command["description"]
    assert len(fake.sync_calls) == 1


async def test_course_lists_every_lesson_with_marks(fake: FakeDiscord, tutor: TutorBot) -> None:
    reply = await run(fake, "alice", "course")
    assert reply.ephemeral
    text = reply.embed["description"]
    assert "**1.** What generative AI is" in text and "**2.** Counting parameters" in text
    assert "0/3 read" in text


async def test_lesson_resumes_where_the_learner_left_off(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    page = await run(fake, "alice", "lesson")
    assert not page.ephemeral
    assert page.embed["author"]["name"] == "Lesson 1 - What generative AI is"
    assert page.embed["title"] == "Creating versus classifying"
    assert "Part 1 of 3" in page.embed["footer"]["text"]
    assert page.button("\u25c0 Previous").get("disabled") is True

    moved = await click(fake, page, "Next \u25b6", "alice")
    assert moved is page and page.embed["title"] == "What a parameter is"  # edited in place

    again = await run(fake, "alice", "lesson")
    assert again.embed["title"] == "What a parameter is"
    assert "Part 2 of 3" in again.embed["footer"]["text"]

    back = await click(fake, again, "\u25c0 Previous", "alice")
    assert back.embed["title"] == "Creating versus classifying"
    assert await count(app, SnippetView, SnippetView.learner_id == fake.user("alice").id) == 2


async def test_next_past_the_last_snippet_finishes_the_lesson_and_opens_the_next(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    page = await run(fake, "alice", "lesson", {"name": "fx-genai"})
    for _ in range(2):
        page = await click(fake, page, "Next \u25b6", "alice")
    assert "Part 3 of 3" in page.embed["footer"]["text"]
    page = await click(fake, page, "Next lesson \u25b6", "alice")
    assert page.embed["author"]["name"] == "Lesson 2 - Counting parameters"
    overview = await run(fake, "alice", "course")
    assert "\u2705 **1.** What generative AI is" in overview.embed["description"]
    assert "\U0001f4cd **2.** Counting parameters" in overview.embed["description"]


async def test_the_end_of_the_course_says_so(fake: FakeDiscord, tutor: TutorBot) -> None:
    page = await run(fake, "alice", "lesson", {"name": "2"})
    page = await click(fake, page, "Next \u25b6", "alice")
    page = await click(fake, page, "Next \u25b6", "alice")
    page = await click(fake, page, "Finish the course \u2713", "alice")
    assert "whole course" in page.content
    assert page.button("End of the course").get("disabled") is True
    assert page.button("\u2713 Done").get("disabled") is True


async def test_mark_done_is_recorded_once(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    page = await run(fake, "alice", "lesson")
    page = await click(fake, page, "\u2713 Mark done", "alice")
    assert "Lesson 1 - What generative AI is is marked done" in page.content
    assert page.button("\u2713 Done").get("disabled") is True
    assert "lesson done" in page.embed["footer"]["text"]
    alice = fake.user("alice").id
    done = LessonProgress.completed_at.is_not(None)
    assert await count(app, LessonProgress, LessonProgress.learner_id == alice, done) == 1


async def test_lesson_autocomplete_offers_lesson_titles(fake: FakeDiscord, tutor: TutorBot) -> None:
    choices = await fake.autocomplete(fake.user("alice"), "lesson", "name", "count")
    assert choices == [{"name": "2. Counting parameters", "value": "fx-nn"}]
    every = await fake.autocomplete(fake.user("alice"), "lesson", "name", "")
    assert [c["value"] for c in every] == ["fx-genai", "fx-nn"]
    page = await run(fake, "alice", "lesson", {"name": "fx-nn"})
    assert page.embed["author"]["name"] == "Lesson 2 - Counting parameters"


async def test_a_lesson_can_be_named_by_number_or_title(fake: FakeDiscord, tutor: TutorBot) -> None:
    assert (await run(fake, "alice", "lesson", {"name": "2"})).embed[
        "title"
    ] == "Weights and biases"
    by_title = await run(fake, "bob", "lesson", {"name": "counting PARAMETERS"})
    assert by_title.embed["title"] == "Weights and biases"


async def test_an_unknown_or_odd_lesson_name_gets_a_clear_message_and_writes_nothing(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    for odd in ("Quantum cooking", "\u202e\u0000" + "\U0001f4a5" * 60, "@everyone " + "x" * 90):
        reply = await run(fake, "alice", "lesson", {"name": odd})
        assert reply.ephemeral
        assert "I can't find a lesson called" in reply.content
    assert await count(app, Learner) == 0
    assert await count(app, SnippetView) == 0


async def test_someone_elses_page_buttons_are_refused_politely(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    page = await run(fake, "alice", "lesson")
    before = page.embed["title"]
    refusal = await click(fake, page, "Next \u25b6", "bob")
    assert refusal.ephemeral and "belongs to someone else" in refusal.content
    refusal = await click(fake, page, "\u2713 Mark done", "bob")
    assert "belongs to someone else" in refusal.content
    assert page.embed["title"] == before and not page.versions  # alice's page untouched
    assert await count(app, SnippetView, SnippetView.learner_id == fake.user("bob").id) == 0
    assert await count(app, LessonProgress, LessonProgress.completed_at.is_not(None)) == 0


@pytest.mark.parametrize("label", ["Next \u25b6", "\u2713 Mark done"])
async def test_a_forged_custom_id_cannot_touch_someone_elses_page(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext, label: str
) -> None:
    page = await run(fake, "alice", "lesson")
    before = page.embed["title"]
    bob = fake.user("bob")
    # Bob's client sends the button's id with Bob's id where Alice's is.
    key = ids.decode(page.button(label)["custom_id"])
    assert isinstance(key, ids.PageStep | ids.MarkDone) and key.learner_id == fake.user("alice").id
    forged = dataclasses.replace(key, learner_id=bob.id).encode()
    handle = await fake.forged_click(page, label, forged, user=bob)
    refusal = await handle.response()
    assert refusal.ephemeral and "belongs to someone else" in refusal.content
    assert page.embed["title"] == before and not page.versions  # alice's page untouched
    assert await count(app, SnippetView, SnippetView.learner_id == bob.id) == 0
    assert await count(app, LessonProgress, LessonProgress.completed_at.is_not(None)) == 0
    # Alice's own clicks still work: the page is hers in the database.
    await click(fake, page, "Next \u25b6", "alice")
    assert page.versions


async def test_anyone_may_quiz_themselves_from_a_shared_page(
    fake: FakeDiscord, tutor: TutorBot
) -> None:
    page = await run(fake, "alice", "lesson")
    quiz = await click(fake, page, "\u2753 Quiz me", "bob")
    assert quiz.ephemeral and quiz.embed["title"] == "Question 1 of 3"
    assert quiz.embed["author"]["name"] == "Lesson 1 - What generative AI is"
    owner = fake.interactions[quiz.interaction_id or 0].user
    assert owner is fake.user("bob")


async def test_a_learner_reads_in_a_dm(fake: FakeDiscord, tutor: TutorBot, app: AppContext) -> None:
    page = await run(fake, "dora", "lesson", dm=True)  # dora shares no server with the bot
    assert page.channel.is_dm
    page = await click(fake, page, "Next \u25b6", "dora")
    assert page.embed["title"] == "What a parameter is"
    assert await count(app, SnippetView, SnippetView.learner_id == fake.user("dora").id) == 2


async def test_a_long_course_overview_turns_pages(
    fake: FakeDiscord, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    lessons = tmp_path / "long-course"
    lessons.mkdir()
    for number in range(1, 26):
        (lessons / f"{number:02d}-lesson-{number}.md").write_text(
            f"---\nid: l{number}\ntitle: Lesson number {number}\nsummary: Part {number}.\n"
            f"topics: []\n---\n\n## Only part {{#l{number}.only}}\n\nText {number}.\n"
        )
    course = load_course(lessons)
    db = await open_database(database_url)
    app = AppContext(settings, db, CourseRuntime.build(course, settings))
    try:
        async with running_bot(fake, app):
            overview = await run(fake, "alice", "course")
            assert "Page 1 of 2" in overview.embed["footer"]["text"]
            assert "**20.** Lesson number 20" in overview.embed["description"]
            assert "**21.**" not in overview.embed["description"]
            turned = await click(fake, overview, "\u25b6", "alice")
            assert turned is overview and "Page 2 of 2" in overview.embed["footer"]["text"]
            assert "**25.** Lesson number 25" in overview.embed["description"]
            assert overview.button("\u25b6").get("disabled") is True
            back = await click(fake, overview, "\u25c0", "alice")
            assert "Page 1 of 2" in back.embed["footer"]["text"]
    finally:
        await db.dispose()
