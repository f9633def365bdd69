"""Every reply still works when the bot must defer (the shared interaction helpers)."""

from __future__ import annotations

import pytest

from bot.app import AppContext
from bot.bot import TutorBot
from bot.exts import _interactions
from tests.exts.conftest import run
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
