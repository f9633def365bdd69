"""The error handler: an unexpected error is logged once with an id the learner sees."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.app import AppContext
from bot.bot import TutorBot
from tests.exts.conftest import run, running_bot
from tests.fakediscord import FakeDiscord

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_an_unexpected_error_is_logged_with_an_id_the_learner_sees(
    fake: FakeDiscord, app: AppContext, caplog: pytest.LogCaptureFixture, errors_expected: None
) -> None:
    async with running_bot(fake, app) as running:
        bot = running.client
        assert isinstance(bot, TutorBot)

        async def explode(interaction) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug")

        bot.tree.add_command(
            app_commands.Command(name="explode", description="A bug.", callback=explode)
        )
        await bot.tree.sync()
        reply = await run(fake, "alice", "explode")
        assert reply.ephemeral and "Sorry, something went wrong" in reply.content
        error_id = reply.content.split("`")[1]
        logged = [r for r in caplog.records if r.name == "bot.exts._errors"]
        assert any(error_id in r.getMessage() and r.exc_info for r in logged)
        # The bot keeps running and answering.
        assert (await run(fake, "alice", "course")).ephemeral
