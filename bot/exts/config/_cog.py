"""/config: a server's settings (roles, time zone, notice channel, /ask channels, token budget).

Guild-only, Manage Server by default (admins can open it to a role under Server Settings →
Integrations); the bot also checks Manage Server or the moderator role on every use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot.exts._interactions import send, within_deadline
from bot.exts._moderators import MODERATOR_PERMISSIONS, SERVER_ONLY, require_moderator
from bot.exts.config import _render as render
from bot.exts.schedule._cog import zone_choices
from bot.services.guild_config import DEFAULT_GUILD_TIMEZONE, GuildSettings
from bot.services.schedules import UNSET

if TYPE_CHECKING:
    from bot.bot import TutorBot

T = TypeVar("T")

Setting = Literal[
    "moderator-role", "maintainer-role", "timezone", "notice-channel", "ask-channels",
    "token-budget",
]


class GuildConfigCog(commands.Cog, name="Config"):
    """A server's settings, for its moderators."""

    config = app_commands.Group(
        name="config",
        description="This server's settings for the bot (moderators)",
        guild_only=True,
        allowed_contexts=SERVER_ONLY,
        default_permissions=MODERATOR_PERMISSIONS,
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def _change(
        self,
        interaction: discord.Interaction[Any],
        work: Callable[[AsyncSession, int], Awaitable[GuildSettings]],
        done: str,
    ) -> None:
        """Check the caller, apply one change in one transaction, show the settings."""
        await require_moderator(interaction)
        guild_id = interaction.guild_id
        assert guild_id is not None
        app = self.bot.app

        async def run() -> GuildSettings:
            async with app.db.sessions.begin() as session:
                return await work(session, guild_id)

        settings = await within_deadline(interaction, run(), ephemeral=True)
        await send(
            interaction,
            content=render.done(done),
            embeds=[render.settings_embed(settings, app.settings.ask.guild_daily_token_budget)],
            ephemeral=True,
        )

    @config.command(name="show")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        """This server's settings, and who can use the moderator commands."""
        settings = await require_moderator(interaction)
        operator = self.bot.app.settings.ask.guild_daily_token_budget
        await send(
            interaction,
            embeds=[render.settings_embed(settings, operator), render.permissions_help()],
            ephemeral=True,
        )

    @config.command(name="moderator-role")
    @app_commands.describe(role="Members with this role may use /schedule and /config")
    async def moderator_role(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        """Set the moderator role (besides Manage Server)."""
        render.check_role(role)

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            return await self.bot.app.services.guild_config.set(
                session, guild_id, moderator_role_id=role.id
            )

        await self._change(interaction, work, f"Moderator role: {role.mention}.")

    @config.command(name="maintainer-role")
    @app_commands.describe(role="Members with this role see the maintainers' help and digests")
    async def maintainer_role(
        self, interaction: discord.Interaction[Any], role: discord.Role
    ) -> None:
        """Set the course maintainer role."""
        render.check_role(role)

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            return await self.bot.app.services.guild_config.set(
                session, guild_id, maintainer_role_id=role.id
            )

        await self._change(interaction, work, f"Maintainer role: {role.mention}.")

    @config.command(name="timezone")
    @app_commands.describe(zone="The server's time zone for digests, e.g. Europe/Berlin or Etc/UTC")
    async def timezone(
        self, interaction: discord.Interaction[Any], zone: app_commands.Range[str, 1, 64]
    ) -> None:
        """Set the server's time zone (digests; each daily quiz keeps its own)."""

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            return await self.bot.app.services.guild_config.set(session, guild_id, timezone=zone)

        await self._change(interaction, work, "Time zone saved.")

    @timezone.autocomplete("zone")
    async def _zones(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @config.command(name="notice-channel")
    @app_commands.describe(channel="Where I tell moderators about digests and paused quizzes")
    async def notice_channel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        """Set the channel for maintainer digests and failure notices."""

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            return await self.bot.app.services.guild_config.set(
                session, guild_id, notice_channel_id=channel.id
            )

        await self._change(interaction, work, f"Notices go to {channel.mention}.")

    @config.command(name="ask-channel")
    @app_commands.describe(
        channel="A channel where /ask may be used",
        allowed="True (default): allow /ask there; False: take it off the list",
    )
    async def ask_channel(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        allowed: bool = True,
    ) -> None:
        """Limit /ask to some channels (with none listed, /ask works everywhere)."""
        service = self.bot.app.services.guild_config

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            current = set((await service.get(session, guild_id)).ask_channel_ids)
            if allowed:
                current.add(channel.id)
            else:
                current.discard(channel.id)
            return await service.set_ask_channels(session, guild_id, sorted(current))

        verb = "allowed in" if allowed else "no longer listed for"
        await self._change(interaction, work, f"/ask is {verb} {channel.mention}.")

    @config.command(name="token-budget")
    @app_commands.describe(
        tokens="Claude tokens a day for this server's /ask (at most the operator's limit)"
    )
    async def token_budget(
        self, interaction: discord.Interaction[Any], tokens: app_commands.Range[int, 0]
    ) -> None:
        """Lower this server's daily /ask token budget (never above the operator's)."""

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            return await self.bot.app.services.guild_config.set(
                session, guild_id, daily_token_budget=tokens
            )

        await self._change(interaction, work, "Token budget saved.")

    @config.command(name="reset")
    @app_commands.describe(setting="The setting to put back to its default")
    async def reset(self, interaction: discord.Interaction[Any], setting: Setting) -> None:
        """Put one setting back to its default."""
        service = self.bot.app.services.guild_config

        async def work(session: AsyncSession, guild_id: int) -> GuildSettings:
            if setting == "ask-channels":
                return await service.set_ask_channels(session, guild_id, [])
            changes: dict[str, Any] = {
                "moderator_role_id": UNSET, "maintainer_role_id": UNSET, "timezone": UNSET,
                "notice_channel_id": UNSET, "daily_token_budget": UNSET,
            }
            field = {
                "moderator-role": "moderator_role_id", "maintainer-role": "maintainer_role_id",
                "timezone": "timezone", "notice-channel": "notice_channel_id",
                "token-budget": "daily_token_budget",
            }[setting]
            changes[field] = DEFAULT_GUILD_TIMEZONE if field == "timezone" else None
            return await service.set(session, guild_id, **changes)

        await self._change(interaction, work, f"`{setting}` is back to its default.")
