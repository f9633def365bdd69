"""Several processes share one bot: each connects only the shards in its settings."""

from __future__ import annotations

import pytest

from bot.app import AppContext
from bot.cli.run import with_shards
from bot.errors import ConfigError
from bot.runtime import CourseRuntime
from tests.exts.conftest import run, running_bot
from tests.fakediscord import FakeDiscord


def sharded(app: AppContext, fake: FakeDiscord, count: int, ids: str) -> AppContext:
    """``app`` pointed at ``fake``, with the shard options as `tutorbot run` takes them."""
    section = app.settings.discord.model_copy(
        update={"api_base": fake.api_base, "gateway_url": fake.gateway_url}
    )
    settings = with_shards(app.settings.model_copy(update={"discord": section}), count, ids)
    return AppContext(settings=settings, db=app.db,
                      runtime=CourseRuntime.build(app.runtime.course, settings))


async def test_a_process_connects_only_its_own_shards(app: AppContext) -> None:
    async with FakeDiscord(shard_count=2) as fake:
        alice = fake.add_user("alice")
        guilds = [fake.add_guild(f"course {n}", shard=(n, 2)) for n in (0, 1)]
        for guild in guilds:
            fake.add_member(guild, alice)
        async with running_bot(fake, sharded(app, fake, 2, "1")) as running:
            bot = running.client
            assert bot.shard_count == 2 and bot.shard_ids == [1]
            assert [guild.name for guild in bot.guilds] == ["course 1"]
            reply = await run(fake, "alice", "help", guild=guilds[1])
            assert reply.ephemeral
        assert [session.shard_id for session in fake.sessions] == [1]


@pytest.mark.parametrize(("count", "ids", "problem"), [
    (None, "0", "needs shard_count"),
    (2, "2", "outside 0..1"),
    (2, "1,1", "a shard twice"),
    (2, "one", "numbers separated by commas"),
    (0, None, "greater than or equal to 1"),
])
def test_bad_shard_options_are_configuration_errors(
    app: AppContext, count: int | None, ids: str | None, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        with_shards(app.settings, count, ids)
