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
from bot.exts._interactions import app_of

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


async def require_maintainer(interaction: discord.Interaction[Any]) -> Scope:
    """The maintainer's scope, or a clear refusal for anyone else."""
    client = interaction.client
    # AutoShardedBot is not a commands.Bot subclass; both derive from BotBase.
    if isinstance(client, commands.bot.BotBase) and await client.is_owner(interaction.user):
        return Scope(None)
    if interaction.guild_id is None:
        raise NotAllowedError(GUILD_ONLY)
    permissions = interaction.permissions
    if permissions.administrator or permissions.manage_guild:
        return Scope(interaction.guild_id)
    app = app_of(interaction)
    async with app.db.sessions() as session:
        settings = await app.services.guild_config.get(session, interaction.guild_id)
    roles = getattr(interaction.user, "roles", ())
    role_id = settings.maintainer_role_id
    if role_id is not None and any(role.id == role_id for role in roles):
        return Scope(interaction.guild_id)
    raise NotAllowedError(NOT_A_MAINTAINER)
