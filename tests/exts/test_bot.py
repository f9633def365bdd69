"""Running the bot: run_bot with configured endpoints, a bad token, intents, command sync."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.app import AppContext
from bot.bot import COMMANDS_HASH_KEY, current_endpoints, point_discord_py_at, run_bot
from bot.db.models.app_state import AppState
from bot.errors import ConfigError
from bot.runtime import CourseRuntime
from bot.settings import Settings
from tests.exts.conftest import AppFactory, count, run, running_bot
from tests.fakediscord import FakeDiscord


def pointed_at(app: AppContext, fake: FakeDiscord, **discord: object) -> AppContext:
    """``app`` with settings sending the bot to ``fake`` (and any other discord settings)."""
    section = app.settings.discord.model_copy(
        update={"api_base": fake.api_base, "gateway_url": fake.gateway_url, **discord}
    )
    settings: Settings = app.settings.model_copy(update={"discord": section})
    return AppContext(
        settings=settings, db=app.db, runtime=CourseRuntime.build(app.course, settings)
    )


async def test_run_bot_serves_until_cancelled_and_closes(
    fake: FakeDiscord, app: AppContext
) -> None:
    previous = current_endpoints()
    task = asyncio.create_task(run_bot(pointed_at(app, fake), fake.token))
    try:
        await fake.wait_until(lambda: fake.live_sessions(), what="the bot connected")
        session = fake.live_sessions()[0]
        privileged = discord.Intents(members=True, presences=True, message_content=True).value
        assert session.intents & privileged == 0
        assert (await run(fake, "alice", "help")).ephemeral
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not fake.live_sessions()  # the websocket was closed, not left hanging
    finally:
        task.cancel()
        point_discord_py_at(previous.api_base, previous.gateway_url)


async def test_a_refused_token_is_a_config_error(app: AppContext) -> None:
    previous = current_endpoints()
    async with FakeDiscord.classroom() as fake:
        try:
            with pytest.raises(ConfigError, match="refused the bot token"):
                await run_bot(pointed_at(app, fake), "not-the-token")
            assert not fake.live_sessions()
        finally:
            point_discord_py_at(previous.api_base, previous.gateway_url)


async def test_commands_sync_only_when_the_tree_or_target_changed(
    fake: FakeDiscord, make_app: AppFactory
) -> None:
    first = await make_app()
    async with running_bot(fake, first):
        pass
    async with running_bot(fake, await make_app()):
        pass
    assert [call.guild_id for call in fake.sync_calls] == [None]
    # A development guild is another target: the tree is synced there (once).
    to_guild = pointed_at(await make_app(), fake, dev_guild_id=fake.guild.id)
    async with running_bot(fake, to_guild):
        assert (await run(fake, "alice", "course")).ephemeral  # served from the guild command
    async with running_bot(fake, to_guild):
        pass
    assert [call.guild_id for call in fake.sync_calls] == [None, fake.guild.id]
    assert "quiz" in fake.commands(fake.guild)
    assert await count(first, AppState, AppState.key == COMMANDS_HASH_KEY) == 1


async def test_syncing_can_be_turned_off(fake: FakeDiscord, app: AppContext) -> None:
    quiet = pointed_at(app, fake, sync_commands=False)
    async with running_bot(fake, quiet):
        pass
    assert fake.sync_calls == []
