"""/config: a server's settings (roles, time zone, notice channel, /ask channels, token budget).

Guild-only, Manage Server by default (admins can open it to a role under Server Settings →
Integrations); the bot also checks Manage Server or the moderator role on every use, in the same
transaction as the read or the change (each subcommand runs in one
:class:`~bot.exts._interactions.Turn`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.exts._interactions import Turn, send
from bot.exts._moderators import MODERATOR_PERMISSIONS, SERVER_ONLY, StaffGate
from bot.exts.config import _render as render
from bot.exts.schedule._cog import zone_choices
from bot.services.guild_config import DEFAULT_GUILD_TIMEZONE, GuildSettings
from bot.services.schedules import UNSET

if TYPE_CHECKING:
    from bot.bot import TutorBot
    from bot.runtime import Unit

#: One change to a server's settings, inside the interaction's unit of work.
Change = Callable[["Unit", int], Awaitable[GuildSettings]]

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

    async def _show(
        self, interaction: discord.Interaction[Any], change: Change | None = None, done: str = ""
    ) -> None:
        """Check the caller and apply ``change`` in one transaction, then show the settings.

        Without ``change`` the settings are only read, and the help on permissions follows.
        """
        async with Turn(interaction) as turn:
            gate = StaffGate.of(interaction)

            async def work(unit: Unit) -> GuildSettings:
                settings = await gate.moderator(unit)
                return settings if change is None else await change(unit, gate.guild_id)

            settings = await turn.run(work, ephemeral=True, ensure_learner=False)
            operator = turn.app.settings.ask.guild_daily_token_budget
            embeds = [render.settings_embed(settings, operator)]
            if change is None:
                embeds.append(render.permissions_help())
            await send(interaction, content=render.done(done) if change else None,
                       embeds=embeds, ephemeral=True)

    @config.command(name="show")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        """This server's settings, and who can use the moderator commands."""
        await self._show(interaction)

    @config.command(name="moderator-role")
    @app_commands.describe(role="Members with this role may use /schedule and /config")
    async def moderator_role(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        """Set the moderator role (besides Manage Server)."""
        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            render.check_role(role)
            return await unit.services.guild_config.set(
                unit.session, guild_id, moderator_role_id=role.id
            )

        await self._show(interaction, work, f"Moderator role: {role.mention}.")

    @config.command(name="maintainer-role")
    @app_commands.describe(role="Members with this role see the maintainers' help and digests")
    async def maintainer_role(
        self, interaction: discord.Interaction[Any], role: discord.Role
    ) -> None:
        """Set the course maintainer role."""
        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            render.check_role(role)
            return await unit.services.guild_config.set(
                unit.session, guild_id, maintainer_role_id=role.id
            )

        await self._show(interaction, work, f"Maintainer role: {role.mention}.")

    @config.command(name="timezone")
    @app_commands.describe(zone="The server's time zone for digests, e.g. Europe/Berlin or Etc/UTC")
    async def timezone(
        self, interaction: discord.Interaction[Any], zone: app_commands.Range[str, 1, 64]
    ) -> None:
        """Set the server's time zone (digests; each daily quiz keeps its own)."""

        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            return await unit.services.guild_config.set(unit.session, guild_id, timezone=zone)

        await self._show(interaction, work, "Time zone saved.")

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

        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            return await unit.services.guild_config.set(
                unit.session, guild_id, notice_channel_id=channel.id
            )

        await self._show(interaction, work, f"Notices go to {channel.mention}.")

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
        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            service = unit.services.guild_config
            current = set((await service.get(unit.session, guild_id)).ask_channel_ids)
            if allowed:
                current.add(channel.id)
            else:
                current.discard(channel.id)
            return await service.set_ask_channels(unit.session, guild_id, sorted(current))

        verb = "allowed in" if allowed else "no longer listed for"
        await self._show(interaction, work, f"/ask is {verb} {channel.mention}.")

    @config.command(name="token-budget")
    @app_commands.describe(
        tokens="Claude tokens a day for this server's /ask (at most the operator's limit)"
    )
    async def token_budget(
        self, interaction: discord.Interaction[Any], tokens: app_commands.Range[int, 0]
    ) -> None:
        """Lower this server's daily /ask token budget (never above the operator's)."""

        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            return await unit.services.guild_config.set(
                unit.session, guild_id, daily_token_budget=tokens
            )

        await self._show(interaction, work, "Token budget saved.")

    @config.command(name="reset")
    @app_commands.describe(setting="The setting to put back to its default")
    async def reset(self, interaction: discord.Interaction[Any], setting: Setting) -> None:
        """Put one setting back to its default."""
        async def work(unit: Unit, guild_id: int) -> GuildSettings:
            service = unit.services.guild_config
            if setting == "ask-channels":
                return await service.set_ask_channels(unit.session, guild_id, [])
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
            return await service.set(unit.session, guild_id, **changes)

        await self._show(interaction, work, f"`{setting}` is back to its default.")
