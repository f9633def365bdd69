"""Who may moderate: Manage Server, or the moderator role a server set with /config.

``/config`` and ``/schedule`` are synced with Manage Server as their default permission, so
Discord shows them only to those members until an admin opens them to a role under Server
Settings → Integrations. Discord's setting is the first gate; this is the second: whoever gets
through (a role opened by mistake, a stale client) is checked against the database.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import NotAllowedError
from bot.exts._interactions import app_of
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


def has_role(interaction: discord.Interaction[Any], role_id: int | None) -> bool:
    """Whether the member holds ``role_id`` (as Discord sent it with this interaction)."""
    if role_id is None:
        return False
    user = interaction.user
    if not isinstance(user, discord.Member):
        return False
    # The role ids of the interaction's own member payload: ``Member.roles`` would drop a
    # role this process has not cached yet (a role created a moment ago, another shard's).
    return role_id in user._roles


async def guild_settings(interaction: discord.Interaction[Any]) -> GuildSettings:
    """The server's /config settings (every default when it never ran /config)."""
    if interaction.guild_id is None:
        raise NotAllowedError(GUILD_ONLY)
    app = app_of(interaction)
    async with app.db.sessions() as session:
        return await app.services.guild_config.get(session, interaction.guild_id)


async def require_moderator(interaction: discord.Interaction[Any]) -> GuildSettings:
    """Refuse clearly anyone without Manage Server or the moderator role; the settings."""
    settings = await guild_settings(interaction)
    if manages_server(interaction) or has_role(interaction, settings.moderator_role_id):
        return settings
    raise NotAllowedError(NOT_A_MODERATOR)


__all__ = [
    "GUILD_ONLY",
    "MODERATOR_PERMISSIONS",
    "NOT_A_MODERATOR",
    "SERVER_ONLY",
    "guild_settings",
    "has_role",
    "manages_server",
    "require_moderator",
]
