"""/help, built from the command tree so it always lists the commands that exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn, send
from bot.exts._moderators import StaffGate
from bot.exts.help._render import CommandHelp, help_embed
from bot.services.roles import Role

if TYPE_CHECKING:
    from bot.bot import TutorBot

#: The order a newcomer meets the commands in; commands not listed follow alphabetically.
ORDER = ("lesson", "course", "quiz", "review", "ask", "progress", "leaderboard", "settings", "help")


async def role_of(turn: Turn) -> Role:
    """The role /help shows: from Manage Server and the roles set with /config.

    A DM is always a learner's.
    """
    if turn.interaction.guild_id is None:
        return Role.LEARNER
    gate = StaffGate.of(turn.interaction)
    if gate.manager:
        return Role.MAINTAINER
    settings = await turn.run(gate.settings, ephemeral=True, ensure_learner=False)
    if gate.holds(settings.maintainer_role_id):
        return Role.MAINTAINER
    if gate.holds(settings.moderator_role_id):
        return Role.MODERATOR
    return Role.LEARNER


def _entries(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group,
) -> Iterator[CommandHelp]:
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from _entries(child)
        return
    options = " ".join(
        f"<{p.display_name}>" if p.required else f"[{p.display_name}]" for p in command.parameters
    )
    yield CommandHelp(f"/{command.qualified_name} {options}".strip(), command.description)


#: Staff commands of the course maintainers; every other staff command is the moderators'.
MAINTAINER_COMMANDS = frozenset({"maintain"})


def _audience(command: app_commands.Command[Any, ..., Any] | app_commands.Group) -> Role:
    """Staff commands are synced with a default permission (Manage Server)."""
    if command.default_permissions is None:
        return Role.LEARNER
    return Role.MAINTAINER if command.name in MAINTAINER_COMMANDS else Role.MODERATOR


def command_help(
    tree: app_commands.CommandTree[Any], audience: Role = Role.LEARNER
) -> list[CommandHelp]:
    """The slash commands of the tree for ``audience``, newcomer's order first.

    Learners' commands one line per command; staff commands one line per command group.
    """

    def rank(command: app_commands.Command[Any, ..., Any] | app_commands.Group) -> tuple[int, str]:
        position = ORDER.index(command.name) if command.name in ORDER else len(ORDER)
        return position, command.name

    found = [
        command
        for command in tree.get_commands(type=discord.AppCommandType.chat_input)
        if isinstance(command, (app_commands.Command, app_commands.Group))
        and _audience(command) is audience
    ]
    if audience is not Role.LEARNER:
        return [
            CommandHelp(
                f"/{command.name} " + " \u00b7 ".join(c.name for c in command.commands)
                if isinstance(command, app_commands.Group) else f"/{command.name}",
                command.description,
            )
            for command in sorted(found, key=rank)
        ]
    return [entry for command in sorted(found, key=rank) for entry in _entries(command)]


class Help(commands.Cog):
    """What the bot can do."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """What I can do, and how to start."""
        async with Turn(interaction) as turn:
            role = await role_of(turn)
            tree = self.bot.tree
            embed = help_embed(
                command_help(tree), role, command_help(tree, Role.MODERATOR),
                command_help(tree, Role.MAINTAINER),
            )
            await send(interaction, embeds=[embed], ephemeral=True)
