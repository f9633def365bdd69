"""The Discord bot: built from an :class:`~bot.app.AppContext`, run until cancelled.

This module is the Discord client, its command sync and the endpoints it talks to.

The bot needs no privileged intent (slash commands and buttons arrive as interactions; it never
reads messages or member lists), never pings anyone (mentions are disabled bot-wide and again on
each reply), and syncs its slash commands only when they changed since the last sync.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import AppContext
from bot.errors import ConfigError, DependencyUnavailableError
from bot.exts import walk_extensions
from bot.lifecycle import ShuttingDownError

log = logging.getLogger(__name__)

#: The app_state key holding the hash of the last command tree synced to Discord.
COMMANDS_HASH_KEY = "discord.commands_hash"
REFUSED_TOKEN = (
    "Discord refused the bot token (DISCORD_TOKEN). Copy it again from the Developer "
    "Portal: your application > Bot > Reset Token."
)
#: What an interaction still running at the end of a shutdown's bound is told.
ABANDONED = "I had to restart before I could finish this. Please try again in a moment."


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
        shard_ids = app.settings.discord.shard_ids
        options.setdefault("shard_ids", list(shard_ids) if shard_ids is not None else None)
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
        self._refusals: set[asyncio.Task[None]] = set()
        self._admit_interactions()

    # --- admission: every interaction is counted until its handler ends (graceful shutdown) ---

    def _admit_interactions(self) -> None:
        """Count each interaction's handler tasks in ``app.admission``; refuse when closing.

        discord.py turns an INTERACTION_CREATE into tasks (the command tree's invoker, a
        button's callback) inside its parser. Wrapping that parser is the one place every
        interaction passes: the tasks it creates are tracked until they end, so a shutdown
        lets them finish first; while closing, the interaction gets a short private
        "restarting" reply instead.
        """
        state = self._connection
        parse = state.parsers["INTERACTION_CREATE"]

        def admitted(data: Any) -> None:
            if self.app.admission.closing:
                self._refuse(data)
                return
            loop = asyncio.get_running_loop()
            created: list[Any] = []
            previous = loop.get_task_factory()

            def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
                if previous is not None:
                    task = previous(loop, coro, **kwargs)
                else:
                    task = asyncio.Task(coro, loop=loop, **kwargs)
                created.append(task)
                return task

            loop.set_task_factory(factory)
            try:
                parse(data)
            finally:
                loop.set_task_factory(previous)
            context = contextvars.copy_context()
            for index, task in enumerate(created):
                # The first task is the handler (the tree's invoker, the button's callback);
                # the others (event listeners) need no message of their own.
                tell = (lambda: self._tell_abandoned(data)) if index == 0 else None
                self.app.admission.track(task, on_abandoned=tell, context=context)

        state.parsers["INTERACTION_CREATE"] = admitted

    def _refuse(self, data: Any) -> None:
        interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=self._connection)

        async def refuse() -> None:
            try:
                if interaction.type is discord.InteractionType.autocomplete:
                    await interaction.response.autocomplete([])
                else:
                    await interaction.response.send_message(
                        str(ShuttingDownError()), ephemeral=True,
                        allowed_mentions=discord.AllowedMentions.none(),
                    )
            except discord.HTTPException as exc:
                log.info("could not tell an interaction that the bot is restarting: %s", exc)

        task = asyncio.get_running_loop().create_task(refuse(), name="refuse: restarting")
        self._refusals.add(task)
        task.add_done_callback(self._refusals.discard)

    async def _tell_abandoned(self, data: Any) -> None:
        """Replace what a cancelled interaction showed (a half-streamed answer, "thinking").

        Work still running at the bound has almost always been deferred (after 1.5 s, or when
        it began to wait for the database), so the reply is edited (a command) or followed up
        (a button) first; an interaction never acknowledged gets a new private reply.
        """
        interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=self._connection)
        none = discord.AllowedMentions.none()
        try:
            if interaction.type is discord.InteractionType.application_command:
                await interaction.edit_original_response(
                    content=ABANDONED, embeds=[], attachments=[], view=None, allowed_mentions=none
                )
            else:
                await interaction.followup.send(ABANDONED, ephemeral=True, allowed_mentions=none)
        except discord.NotFound:  # nothing was sent yet: answer it now
            await interaction.response.send_message(
                ABANDONED, ephemeral=True, allowed_mentions=none
            )

    async def close(self) -> None:
        """Let the "restarting" replies go out, then close the connections."""
        if self._refusals:
            await asyncio.wait(set(self._refusals), timeout=1.0)
        await super().close()
        self.app.observer.health.gateway_closed()  # on purpose: not a shard down

    # --- health: which shards are connected (``/healthz``), their latency (metrics) ---------

    async def on_shard_connect(self, shard_id: int) -> None:
        """A shard connected to the gateway."""
        self.app.observer.health.shard_connected(shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard is ready (after IDENTIFY)."""
        self.app.observer.health.shard_connected(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A shard resumed its session after a reconnect."""
        self.app.observer.health.shard_connected(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """A shard lost its connection (it usually resumes within seconds)."""
        if not self.is_closed():
            self.app.observer.health.shard_disconnected(shard_id)

    def gateway_latencies(self) -> dict[int, float]:
        """Each connected shard's gateway latency, in seconds."""
        return {shard_id: shard.latency for shard_id, shard in self.shards.items()}

    async def setup_hook(self) -> None:
        """Load every extension (buttons, workers), sync commands if changed, start workers."""
        from bot.observe import register_workers

        observer = self.app.observer
        observer.health.gateway_starting()
        observer.metrics.gateway.source = self.gateway_latencies
        # The heartbeat, the start-up integrity check and the metrics endpoint.
        register_workers(self.app)
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


class DiscordWorker:
    """The Discord connection as a :class:`~bot.lifecycle.Worker` of the app.

    Registered first, it starts first (logging in loads the extensions, which may register
    their own workers, and syncs commands) and stops last: the job runner's posts still reach
    Discord while it drains.
    """

    name = "discord"

    def __init__(self, bot: TutorBot, token: str) -> None:
        self.bot = bot
        self._token = token
        self.connection: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in, then connect the gateway in a task.

        Raises ConfigError for a refused token, DependencyUnavailableError when Discord
        cannot be reached.
        """
        try:
            await self.bot.login(self._token)
        except discord.LoginFailure as exc:
            raise ConfigError(REFUSED_TOKEN) from exc
        except (OSError, aiohttp.ClientError, discord.GatewayNotFound) as exc:
            raise DependencyUnavailableError(
                f"Cannot reach Discord at {self.bot.app.settings.discord.api_base}: "
                f"{type(exc).__name__}: {exc}"[:300]
            ) from None
        except discord.HTTPException as exc:
            if exc.status < 500:
                raise
            raise DependencyUnavailableError(
                f"Discord is not available right now ({exc.status}); try again later."
            ) from None
        self.connection = asyncio.get_running_loop().create_task(
            self.bot.connect(), name="discord gateway"
        )

    async def stop(self) -> None:
        """Close the gateway and the HTTP session."""
        await self.bot.close()
        if self.connection is not None:
            await asyncio.wait({self.connection}, timeout=2.0)


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
        raise ConfigError(REFUSED_TOKEN) from exc


__all__ = [
    "COMMANDS_HASH_KEY",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "DiscordEndpoints",
    "DiscordWorker",
    "TutorBot",
    "create_bot",
    "current_endpoints",
    "point_discord_py_at",
    "run_bot",
]
