"""Who may maintain: the bot's owner (every guild), or in a server Manage Server or its role.

``/maintain`` is synced with Manage Server as its default permission, so Discord shows it to
those members until an admin opens it to the maintainer role under Server Settings →
Integrations. That is the first gate; this is the second, checked on every command and click
against the database (the maintainer role set with ``/config``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord.ext import commands

from bot.errors import NotAllowedError
from bot.runtime import Unit

NOT_A_MAINTAINER = (
    "Only the course maintainers can do that: you need the **Manage Server** permission or the "
    "server's maintainer role (set with `/config`). Learners' feedback is private to them."
)
GUILD_ONLY = "Use this in the server whose feedback you maintain."


@dataclass(frozen=True)
class Scope:
    """Whose feedback the maintainer may read: one guild, or every guild (``None``)."""

    guild_id: int | None

    @property
    def label(self) -> str:
        """How lists name their scope."""
        return "all servers" if self.guild_id is None else "this server"


async def maintainer_gate(interaction: discord.Interaction[Any]) -> Gate:
    """What can be decided before the database: the bot owner, a server, Manage Server.

    Asking Discord whether the user owns the bot happens here, outside any transaction; the
    maintainer role is checked inside the interaction's unit of work by :meth:`Gate.scope`.
    """
    client = interaction.client
    # AutoShardedBot is not a commands.Bot subclass; both derive from BotBase.
    if isinstance(client, commands.bot.BotBase) and await client.is_owner(interaction.user):
        return Gate(owner=True, guild_id=interaction.guild_id, manager=True, role_ids=())
    if interaction.guild_id is None:
        raise NotAllowedError(GUILD_ONLY)
    permissions = interaction.permissions
    roles = getattr(interaction.user, "roles", ())
    return Gate(
        owner=False,
        guild_id=interaction.guild_id,
        manager=bool(permissions.administrator or permissions.manage_guild),
        role_ids=tuple(role.id for role in roles),
    )


@dataclass(frozen=True)
class Gate:
    """Who is asking, as far as Discord says; :meth:`scope` finishes the check in SQL."""

    owner: bool
    guild_id: int | None
    manager: bool
    role_ids: tuple[int, ...]

    async def scope(self, unit: Unit) -> Scope:
        """The maintainer's scope, or a clear refusal (the role comes from ``/config``)."""
        if self.owner:
            return Scope(None)
        assert self.guild_id is not None
        if self.manager:
            return Scope(self.guild_id)
        settings = await unit.services.guild_config.get(unit.session, self.guild_id)
        role_id = settings.maintainer_role_id
        if role_id is not None and role_id in self.role_ids:
            return Scope(self.guild_id)
        raise NotAllowedError(NOT_A_MAINTAINER)
