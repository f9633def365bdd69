"""The shared interaction helpers: deferring in time, counting, admission, the course runtime."""

from __future__ import annotations

import pytest

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Learner
from bot.exts import _interactions
from tests.exts.conftest import count, run
from tests.exts.quiz.test_quiz_e2e import answer, start
from tests.fakediscord import FakeDiscord

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


async def test_every_interaction_is_counted_and_timed_once(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    before = dict(_interactions.STATS.started)
    page = await run(fake, "alice", "lesson")
    await fake.click(page, label="Next \u25b6", user=fake.user("alice"))
    await fake.wait_until(
        lambda: _interactions.STATS.started["button:pg"] > before.get("button:pg", 0),
        what="the click was counted",
    )
    assert _interactions.STATS.started["/lesson"] == before.get("/lesson", 0) + 1
    assert _interactions.STATS.seconds["/lesson"] > 0
    assert app.admission.in_flight == 0  # every admitted interaction left


async def test_a_stopping_app_refuses_new_interactions_and_writes_nothing(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    failed_before = _interactions.STATS.failed["/lesson"]
    app.admission.close()
    reply = await run(fake, "bob", "lesson")
    assert reply.ephemeral and "restarting" in reply.content
    assert await count(app, Learner, Learner.id == fake.user("bob").id) == 0
    # Refused before it was admitted: not counted as a failed interaction either.
    assert _interactions.STATS.failed["/lesson"] == failed_before


async def test_an_interaction_keeps_the_course_it_started_with(
    fake: FakeDiscord, tutor: TutorBot, app: AppContext
) -> None:
    first = app.runtime
    page = await run(fake, "alice", "lesson")
    # A live reload swaps (course, services) as one unit; the old runtime is left untouched.
    swapped = app.swap_course(first.course)
    assert app.runtime is swapped and swapped is not first
    assert swapped.services.course.course is first.course
    assert first.services is not swapped.services
    # The next click reads the new runtime, once, and still works.
    clicked = await fake.click(page, label="Next \u25b6", user=fake.user("alice"))
    assert (await clicked.response()).embed["title"] == "What a parameter is"
