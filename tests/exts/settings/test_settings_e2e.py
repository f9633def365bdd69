"""/settings through the fake Discord."""

from __future__ import annotations

from bot.app import AppContext
from bot.bot import TutorBot
from bot.db.models import Learner
from tests.exts.conftest import run
from tests.fakediscord import FakeDiscord

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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
