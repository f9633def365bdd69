"""Every extension under bot/exts loads on its own and together, and command names are unique."""

from __future__ import annotations

import importlib

import pytest

from bot.app import AppContext
from bot.bot import create_bot
from bot.exts import walk_extensions


def test_every_feature_package_is_an_extension() -> None:
    extensions = walk_extensions()
    assert {"bot.exts.lessons", "bot.exts.quiz", "bot.exts.progress", "bot.exts.help"} <= set(
        extensions
    )
    for name in extensions:
        module = importlib.import_module(name)
        assert callable(getattr(module, "setup", None)), f"{name} has no setup(bot)"


@pytest.mark.parametrize("extension", walk_extensions())
async def test_each_extension_loads_and_unloads_alone(app: AppContext, extension: str) -> None:
    bot = create_bot(app)
    async with bot:
        await bot.load_extension(extension)
        assert extension in bot.extensions
        await bot.unload_extension(extension)
        assert extension not in bot.extensions


async def test_all_extensions_load_together_with_unique_command_names(app: AppContext) -> None:
    bot = create_bot(app)
    async with bot:
        for extension in walk_extensions():
            await bot.load_extension(extension)
        assert set(bot.extensions) == set(walk_extensions())
        # discord.py refuses a second command of the same name at load time; and every command
        # a cog declares must be in the tree under its own name (none replaced another).
        declared = [
            command.name for cog in bot.cogs.values() for command in cog.get_app_commands()
        ]
        duplicates = sorted({name for name in declared if declared.count(name) > 1})
        assert not duplicates, f"command names used twice: {duplicates}"
        in_tree = [command.name for command in bot.tree.get_commands()]
        assert sorted(in_tree) == sorted(declared)
        assert {"lesson", "course", "quiz", "progress", "leaderboard", "help"} <= set(in_tree)
