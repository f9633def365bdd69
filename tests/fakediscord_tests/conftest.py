"""Fixtures for the fake Discord's own tests: a started fake and bare discord.py bots."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

# The fake lives in tests/fakediscord; make ``tests.fakediscord`` importable whatever the
# pytest import mode (pyproject's pytest settings do not put the repository root on sys.path).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakediscord import FakeDiscord  # noqa: E402


class _Bare(commands.Bot):
    """What both bare bots share (the sharded one swaps in ``AutoShardedBot``)."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.default())
        super().__init__(
            command_prefix=commands.when_mentioned,
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.errors: asyncio.Queue[BaseException] = asyncio.Queue()
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        self.errors.put_nowait(original)


class BareBot(_Bare):
    """A minimal discord.py bot: tests add their own commands to ``tree`` before starting it.

    It syncs its commands globally on start-up and collects command errors (unwrapped) in
    ``errors`` so a test can await the exception a handler hit.
    """


class BareShardedBot(_Bare, commands.AutoShardedBot):
    """The sharded variant (the tutorbot runs ``AutoShardedBot``)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every non-initial IDENTIFY; the fake has no such limit.
        return None


@pytest.fixture(autouse=True)
def no_discord_py_errors(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Fail a test in which discord.py logged an error (an event it could not parse, a crash in
    a view...): those never reach the test otherwise. Tests expecting one request
    ``discord_errors_expected``.
    """
    yield
    if "discord_errors_expected" in request.fixturenames:
        return
    errors = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith("discord") and r.levelno >= logging.ERROR
    ]
    assert not errors, "discord.py logged errors:\n" + "\n".join(errors)


@pytest.fixture
def discord_errors_expected() -> None:
    """Marks a test in which discord.py is expected to log errors."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A started ``FakeDiscord.classroom()``."""
    async with FakeDiscord.classroom() as started:
        yield started


@pytest.fixture
def bare_bot() -> Callable[..., _Bare]:
    """A factory of bare bots: ``bare_bot()`` or ``bare_bot(sharded=True, intents=...)``."""

    def make(*, sharded: bool = False, **options: Any) -> _Bare:
        return BareShardedBot(**options) if sharded else BareBot(**options)

    return make
