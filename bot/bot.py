"""The Discord bot: built from an :class:`~bot.app.AppContext`, run until cancelled.

This module is the Discord client, its command sync and the endpoints it talks to.

The bot needs no privileged intent (slash commands and buttons arrive as interactions; it never
reads messages or member lists), never pings anyone (mentions are disabled bot-wide and again on
each reply), and syncs its slash commands only when they changed since the last sync.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import AppContext
from bot.errors import ConfigError
from bot.exts import walk_extensions

log = logging.getLogger(__name__)

#: The app_state key holding the hash of the last command tree synced to Discord.
COMMANDS_HASH_KEY = "discord.commands_hash"


# --- endpoints -----------------------------------------------------------------------------------
#
# Point discord.py at a Discord API and gateway other than discord.com (a fake, a proxy).
#
# discord.py has no constructor argument for its endpoints: every REST call (webhooks and
# interaction callbacks included) builds its URL from the class attribute ``Route.BASE`` when the
# ``Route`` is created, and a client that is not sharded automatically connects to
# ``DiscordWebSocket.DEFAULT_GATEWAY``. ``AutoShardedClient`` asks ``GET /gateway/bot`` for its URL
# instead, so pointing ``Route.BASE`` at a server also points the sharded gateway at whatever that
# server answers. Both attributes are process-wide, which is why this module is the one place that
# touches them.

#: Discord's own endpoints, what ``discord.api_base`` and an empty ``discord.gateway_url`` mean.
DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"


@dataclass(frozen=True)
class DiscordEndpoints:
    """Where discord.py sends REST requests and opens its gateway websocket."""

    api_base: str
    gateway_url: str


def current_endpoints() -> DiscordEndpoints:
    """The endpoints discord.py uses right now."""
    return DiscordEndpoints(api_base=Route.BASE, gateway_url=str(DiscordWebSocket.DEFAULT_GATEWAY))


def point_discord_py_at(api_base: str, gateway_url: str = "") -> DiscordEndpoints:
    """Make discord.py use ``api_base`` for REST and ``gateway_url`` for the gateway.

    ``api_base`` is the full prefix, API version included (``http://127.0.0.1:8080/api/v10``).
    An empty ``gateway_url`` means Discord's own gateway. Returns the endpoints in force before
    the call, so a caller (a test harness) can put them back.
    """
    api = yarl.URL(api_base)
    if api.scheme not in ("http", "https") or not api.host:
        raise ValueError(f"discord api_base must be an http(s) URL, not {api_base!r}")
    gateway = yarl.URL(gateway_url or DISCORD_GATEWAY_URL)
    if gateway.scheme not in ("ws", "wss") or not gateway.host:
        raise ValueError(f"discord gateway_url must be a ws(s) URL, not {gateway_url!r}")

    previous = current_endpoints()
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    return previous


class TutorBot(commands.AutoShardedBot):
    """The tutor bot: every extension under :mod:`bot.exts`, over one application context."""

    def __init__(self, app: AppContext, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # guild names and channels; not privileged
        options.setdefault("shard_count", app.settings.discord.shard_count)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            # Every command works in servers and in a DM with the bot; not as a user-installed
            # app (the course and its leaderboard belong to servers that added the bot).
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=True, private_channel=False
            ),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            max_messages=None,  # the bot never reads messages; no cache needed
            **options,
        )
        self.app = app

    async def setup_hook(self) -> None:
        """Load every extension (buttons, workers), sync commands if changed, start workers."""
        for extension in walk_extensions():
            await self.load_extension(extension)
        log.info("loaded extensions: %s", ", ".join(self.extensions))
        if self.app.settings.discord.sync_commands:
            await self.sync_commands()
        # The app's background workers (the daily quizzes' job runner, registered by its
        # extension) need Discord's REST API, which works from here on; app.stop() ends them.
        await self.app.start()

    def commands_hash(self, guild: discord.abc.Snowflake | None) -> str:
        """A hash of what a sync would send: the commands, the target and the application."""
        payload = {
            "application": self.application_id,
            "target": f"guild:{guild.id}" if guild else "global",
            "commands": [
                command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)
            ],
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    async def sync_commands(self) -> bool:
        """Sync to the development guild (if set) or globally, only when the tree changed.

        Returns whether a sync was sent. A failed sync is logged and retried at the next start.
        """
        guild_id = self.app.settings.discord.dev_guild_id
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = self.commands_hash(guild)
        target = f"guild {guild_id}" if guild else "all servers"
        # No session stays open across the call to Discord.
        state = self.app.services.state
        async with self.app.db.sessions.begin() as session:
            stored = await state.read(session, COMMANDS_HASH_KEY)
        if stored == digest:
            log.info("slash commands unchanged since the last sync to %s; not syncing", target)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error("could not sync slash commands to %s: %s", target, exc)
            return False
        async with self.app.db.sessions.begin() as session:
            await state.write(session, COMMANDS_HASH_KEY, digest)
        log.info("synced %d slash commands to %s", len(synced), target)
        return True


def _point_at_configured_endpoints(app: AppContext) -> None:
    settings = app.settings.discord
    if settings.api_base.rstrip("/") != DISCORD_API_BASE or settings.gateway_url:
        point_discord_py_at(settings.api_base, settings.gateway_url)


def create_bot(app: AppContext, **options: Any) -> TutorBot:
    """The bot over ``app``, pointed at the configured Discord endpoints.

    ``options`` go to :class:`discord.ext.commands.AutoShardedBot` (tests pass a short
    ``guild_ready_timeout``). Endpoints other than Discord's own are process-wide in discord.py.
    """
    _point_at_configured_endpoints(app)
    return TutorBot(app, **options)


async def run_bot(app: AppContext, token: str) -> None:
    """Log in with ``token`` and serve until cancelled (or closed); always closes cleanly.

    Raises :class:`~bot.errors.ConfigError` when Discord refuses the token.
    """
    bot = create_bot(app)
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure as exc:
        raise ConfigError(
            "Discord refused the bot token (DISCORD_TOKEN). Copy it again from the Developer "
            "Portal: your application > Bot > Reset Token."
        ) from exc


__all__ = [
    "COMMANDS_HASH_KEY",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "DiscordEndpoints",
    "TutorBot",
    "create_bot",
    "current_endpoints",
    "point_discord_py_at",
    "run_bot",
]
