"""Who may moderate: Manage Server, or the moderator role a server set with /config.

``/config`` and ``/schedule`` are synced with Manage Server as their default permission, so
Discord shows them only to those members until an admin opens them to a role under Server
Settings → Integrations. Discord's setting is the first gate; this is the second: whoever gets
through (a role opened by mistake, a stale client) is checked against the database, inside the
interaction's one unit of work (:class:`StaffGate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.errors import NotAllowedError
from bot.runtime import Unit
from bot.services.guild_config import GuildSettings

#: The default permission of every moderator command (discord.py applies it to top-level
#: commands only, so each moderator feature is its own top-level group).
MODERATOR_PERMISSIONS = discord.Permissions(manage_guild=True)
#: Servers only: explicit ``False`` overrides the bot-wide contexts (which include DMs).
SERVER_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)

NOT_A_MODERATOR = (
    "Only moderators can do that: you need the **Manage Server** permission or the server's "
    "moderator role (set with `/config moderator-role`)."
)
GUILD_ONLY = "This command works only in a server."


def manages_server(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member has Manage Server (or Administrator) in this server."""
    permissions = interaction.permissions
    return bool(permissions.administrator or permissions.manage_guild)


def role_ids(interaction: discord.Interaction[Any]) -> frozenset[int]:
    """The member's role ids, as Discord sent them with this interaction (none in a DM)."""
    user = interaction.user
    if not isinstance(user, discord.Member):
        return frozenset()
    # The role ids of the interaction's own member payload: ``Member.roles`` would drop a
    # role this process has not cached yet (a role created a moment ago, another shard's).
    return frozenset(user._roles)


@dataclass(frozen=True)
class StaffGate:
    """Who is asking, as far as Discord says; the server's roles come from the database.

    Built from the interaction before any transaction (:meth:`of`); :meth:`settings` and
    :meth:`moderator` finish the check inside the interaction's unit of work, with the read or
    the change it guards.
    """

    guild_id: int
    manager: bool  # Manage Server or Administrator
    role_ids: frozenset[int]

    @classmethod
    def of(cls, interaction: discord.Interaction[Any]) -> StaffGate:
        """The gate of ``interaction``; a clear refusal outside a server."""
        if interaction.guild_id is None:
            raise NotAllowedError(GUILD_ONLY)
        return cls(interaction.guild_id, manages_server(interaction), role_ids(interaction))

    def holds(self, role_id: int | None) -> bool:
        """Whether the member holds ``role_id`` (``None``: a role the server never set)."""
        return role_id is not None and role_id in self.role_ids

    async def settings(self, unit: Unit) -> GuildSettings:
        """The server's /config settings (every default when it never ran /config)."""
        return await unit.services.guild_config.get(unit.session, self.guild_id)

    async def moderator(self, unit: Unit) -> GuildSettings:
        """The settings, if the member has Manage Server or the moderator role; else refused."""
        settings = await self.settings(unit)
        if self.manager or self.holds(settings.moderator_role_id):
            return settings
        raise NotAllowedError(NOT_A_MODERATOR)


__all__ = [
    "GUILD_ONLY",
    "MODERATOR_PERMISSIONS",
    "NOT_A_MODERATOR",
    "SERVER_ONLY",
    "StaffGate",
    "manages_server",
    "role_ids",
]
