"""``FakeDiscord``: Discord's REST API and gateway on 127.0.0.1, and the API tests drive it with."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import yarl
from aiohttp import web

from . import _limits
from ._errors import (
    FormErrors,
)
from ._gateway import (
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGE_REACTIONS,
    GUILD_MESSAGES,
    GUILDS,
    MESSAGE_CONTENT,
    RECONNECT,
    GatewaySession,
)
from ._ids import Snowflakes, iso_now, new_token
from ._interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Changes,
    FakeModal,
    Interaction,
    Rejection,
)
from ._limits import FLAG_EPHEMERAL, FLAG_LOADING
from ._rest import API_PREFIX, RequestRecord, RestApi, SyncCall, Upload
from ._world import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM,
    GUILD_TEXT,
    MSG_DEFAULT,
    MSG_REPLY,
    PRIVATE_THREAD,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    resolve_mentions,
    walk_components,
)

log = logging.getLogger("fakediscord")

# Application flags announcing that the privileged intents are enabled for the app.
_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19


class ScenarioError(AssertionError):
    """The test asked for something a Discord client would not let a user do."""


class FakeDiscord:
    """A fake Discord on 127.0.0.1 that the real discord.py client talks to over sockets.

    Build the world (``add_user``, ``add_guild``, ``add_member``...), ``await start()``, point a
    client at ``api_base``/``gateway_url`` (see ``harness.run_client``), then drive it:
    ``slash``, ``click``, ``select``, ``submit_modal``, ``autocomplete``, ``user_says``.
    Everything the bot sent is kept: ``messages``, ``interactions``, ``commands()``,
    ``sync_calls``, ``rejections`` (every 4xx answered), ``unknown_routes``.
    """

    def __init__(
        self,
        *,
        bot_name: str = "tutorbot",
        token: str = "fake-discord-bot-token",
        response_deadline: float = 3.0,
        token_lifetime: float = 15 * 60,
        shard_count: int = 1,
        privileged_intents: int = GUILD_MEMBERS | MESSAGE_CONTENT,
        attachment_size_limit: int = 10 * 1024 * 1024,
        global_rate_limit: int | None = None,
        wait_timeout: float = 5.0,
    ) -> None:
        self.ids = Snowflakes()
        self.token = token
        #: Seconds an interaction may wait for its first response (Discord: 3).
        self.response_deadline = response_deadline
        #: Seconds followups and edits stay possible after dispatch (Discord: 15 minutes).
        self.token_lifetime = token_lifetime
        #: What ``GET /gateway/bot`` recommends (AutoShardedBot obeys it).
        self.shard_count = shard_count
        #: Privileged intents enabled for the app; asking for others closes the gateway (4014).
        self.privileged_intents = privileged_intents
        self.attachment_size_limit = attachment_size_limit
        #: Requests per second before a global 429 (None: no limit). Callbacks are exempt.
        self.global_rate_limit = global_rate_limit
        #: Default seconds a test waits for the bot.
        self.wait_timeout = wait_timeout
        #: While True the gateway refuses connections (:meth:`gateway_outage`).
        self.gateway_down = False

        self.bot_user = FakeUser(self.ids.next(), bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.owner = FakeUser(self.ids.next(), "course-owner")
        self.users: dict[int, FakeUser] = {
            self.bot_user.id: self.bot_user,
            self.owner.id: self.owner,
        }
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._commands: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {}
        self.sync_calls: list[SyncCall] = []
        self.requests: list[RequestRecord] = []
        self.rejections: list[Rejection] = []
        self.unknown_routes: list[str] = []
        self.rate_limited_count = 0
        #: Seconds Discord remembers a message nonce (``enforce_nonce``): "a few minutes".
        self.nonce_window = 180.0
        #: Posts answered with the earlier message of the same nonce.
        self.nonce_hits = 0
        self._nonced: dict[tuple[int, str], tuple[FakeMessage, float]] = {}
        #: Integrations overrides: (guild id, command name) -> role ids allowed to use it.
        self.command_roles: dict[tuple[int, str], set[int]] = {}
        self.sessions: list[GatewaySession] = []
        self.identify_count = 0
        self.resume_count = 0
        self.typing: list[int] = []
        self._connections: set[web.WebSocketResponse] = set()
        self._changes = Changes()
        #: Set by the harness when it reports each response the bot has finished handling.
        self.tracking = False
        self._unconsumed: Counter[tuple[str, str]] = Counter()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._rest = RestApi(self)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if not self._port:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What ``Route.BASE`` (the bot's ``discord.api_base``) must be."""
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What the bot's ``discord.gateway_url`` must be."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def application_flags(self) -> int:
        """The app's flags, announcing the enabled privileged intents."""
        flags = 0
        if self.privileged_intents & GUILD_MEMBERS:
            flags |= _FLAG_GATEWAY_GUILD_MEMBERS_LIMITED
        if self.privileged_intents & MESSAGE_CONTENT:
            flags |= _FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED
        return flags

    async def start(self) -> FakeDiscord:
        """Listen on a free port of 127.0.0.1."""
        self._runner = web.AppRunner(
            self._rest.application(), access_log=None, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close every websocket and stop listening."""
        for interaction in self.interactions.values():
            interaction._cancel_timer()
        for ws in list(self._connections):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ building the world

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        dms_open: bool = True,
    ) -> FakeUser:
        """A new user."""
        user = FakeUser(
            self.ids.next(), username, global_name=global_name, bot=bot, dms_open=dms_open
        )
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        channels: tuple[str, ...] = ("general",),
        roles: tuple[str, ...] = (),
        owner: FakeUser | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A new guild with text channels and roles; the bot is a member with its managed role.

        Build guilds before the bot connects: GUILD_CREATE is sent on IDENTIFY. ``shard``
        ``(shard_id, shard_count)`` picks an id that lands on that shard.
        """
        owner = owner or self.owner
        guild_id = self.ids.next_on_shard(*shard) if shard else self.ids.next()
        guild = FakeGuild(guild_id, name, owner.id)
        guild.roles[guild.id] = FakeRole(
            guild.id, guild.id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS
        )
        bot_role = FakeRole(
            self.ids.next(),
            guild.id,
            self.bot_user.username,
            bot_permissions,
            position=1,
            managed=True,
        )
        guild.roles[bot_role.id] = bot_role
        for position, role_name in enumerate(roles, start=2):
            self.add_role(guild, role_name, position=position)
        for channel_name in channels:
            self.add_channel(guild, channel_name)
        self.guilds[guild.id] = guild
        self.users.setdefault(owner.id, owner)
        guild.members[owner.id] = FakeMember(guild.id, owner)
        guild.members[self.bot_user.id] = FakeMember(guild.id, self.bot_user, [bot_role.id])
        return guild

    def add_role(
        self, guild: FakeGuild, name: str, *, permissions: int = 0, position: int | None = None
    ) -> FakeRole:
        """A new role in ``guild``."""
        role = FakeRole(
            self.ids.next(), guild.id, name, permissions, position=position or len(guild.roles) + 1
        )
        guild.roles[role.id] = role
        return role

    def add_channel(
        self, guild: FakeGuild, name: str, *, type: int = GUILD_TEXT, topic: str | None = None
    ) -> FakeChannel:
        """A new channel in ``guild``."""
        position = sum(1 for c in guild.channels.values() if not c.is_thread)
        channel = FakeChannel(
            self.ids.next(), type, name, guild_id=guild.id, position=position, topic=topic
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        guild: FakeGuild,
        user: FakeUser,
        *,
        roles: tuple[str, ...] = (),
        nick: str | None = None,
    ) -> FakeMember:
        """Make ``user`` a member of ``guild`` with the named roles."""
        member = FakeMember(guild.id, user, [guild.role(r).id for r in roles], nick)
        guild.members[user.id] = member
        return member

    def allow_command(self, guild: FakeGuild, command: str, role: FakeRole) -> None:
        """Server Settings → Integrations: open ``/command`` to members with ``role``."""
        self.command_roles.setdefault((guild.id, command), set()).add(role.id)

    async def set_bot_channel_permissions(
        self, channel: FakeChannel, *, allow: int = 0, deny: int = 0
    ) -> None:
        """A member overwrite for the bot in ``channel`` (announced as CHANNEL_UPDATE)."""
        channel.member_overwrites[self.bot_user.id] = (allow, deny)
        for session in self._sessions_for(channel.guild_id, GUILDS):
            await session.dispatch("CHANNEL_UPDATE", channel.payload())

    async def delete_channel(self, channel: FakeChannel) -> None:
        """Delete a channel: later requests for it get 404 Unknown Channel."""
        self.channels.pop(channel.id, None)
        if channel.guild_id is not None:
            self.guilds[channel.guild_id].channels.pop(channel.id, None)
        for session in self._sessions_for(channel.guild_id, GUILDS):
            await session.dispatch("CHANNEL_DELETE", channel.payload())

    def set_bot_permissions(self, guild: FakeGuild, permissions: int) -> None:
        """Replace the permissions of the bot's managed role in ``guild``."""
        for role_id in guild.members[self.bot_user.id].role_ids:
            if guild.roles[role_id].managed:
                guild.roles[role_id].permissions = permissions

    @classmethod
    def classroom(cls, **options: Any) -> FakeDiscord:
        """A ready-made world: guild "GenAI course" (#general, #lessons, #ask), role Mentor,
        learners alice and bob (members), mentor "mia" (Mentor), and "dora" who shares no guild.
        """
        fake = cls(**options)
        guild = fake.add_guild(
            "GenAI course", channels=("general", "lessons", "ask"), roles=("Mentor",)
        )
        for name in ("alice", "bob"):
            fake.add_member(guild, fake.add_user(name))
        fake.add_member(guild, fake.add_user("mia"), roles=("Mentor",))
        fake.add_user("dora")
        return fake

    def user(self, username: str) -> FakeUser:
        """The user called ``username``."""
        for user in self.users.values():
            if user.username == username:
                return user
        raise KeyError(f"no user {username!r}")

    @property
    def guild(self) -> FakeGuild:
        """The only guild (fails when there are several)."""
        if len(self.guilds) != 1:
            raise ScenarioError(f"there are {len(self.guilds)} guilds; name one")
        return next(iter(self.guilds.values()))

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between ``user`` and the bot (made on first use, like Discord)."""
        channel = self._dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self.ids.next(), DM, None, recipient=user)
            self._dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    # ------------------------------------------------------------------ what the bot did

    def commands(self, guild: FakeGuild | None = None) -> dict[str, dict[str, Any]]:
        """The synced commands (global, or of ``guild``) by name, as Discord stores them."""
        store = self._commands.get(guild.id if guild else None, {})
        return {name: command for (_, name), command in store.items()}

    def messages_in(self, channel: FakeChannel, *, ephemeral: bool = False) -> list[FakeMessage]:
        """Messages in ``channel``, oldest first, deleted ones left out."""
        return [
            m
            for m in self.messages.values()
            if m.channel is channel and not m.deleted and (ephemeral or not m.ephemeral)
        ]

    def threads(self, parent: FakeChannel | None = None) -> list[FakeChannel]:
        """Every thread (of ``parent``, if given)."""
        return [
            c
            for c in self.channels.values()
            if c.is_thread and (parent is None or c.parent_id == parent.id)
        ]

    def files(self) -> list[FakeAttachment]:
        """Every file the bot uploaded, oldest first."""
        return list(self.attachments.values())

    async def wait_for_message(self, check: Callable[[FakeMessage], bool]) -> FakeMessage:
        """The oldest message (existing or coming) for which ``check`` is true."""

        def find() -> FakeMessage | None:
            return next((m for m in self.messages.values() if not m.deleted and check(m)), None)

        return await self._changes.wait_until(find, self.wait_timeout, "a matching message")

    async def wait_until(self, check: Callable[[], Any], *, what: str = "a condition") -> Any:
        """Wait until ``check()`` returns something other than None/False, re-checked on changes."""
        return await self._changes.wait_until(lambda: check() or None, self.wait_timeout, what)

    def live_sessions(self) -> list[GatewaySession]:
        """Gateway sessions with an open websocket."""
        return [s for s in self.sessions if s.live]

    def assert_no_rejections(self) -> None:
        """Fail if the fake answered any request with an error or saw an unknown route."""
        problems = [str(r) for r in self.rejections] + [
            f"unknown route {r}" for r in self.unknown_routes
        ]
        assert not problems, "the fake rejected requests:\n  " + "\n  ".join(problems)

    # ------------------------------------------------------------------ driving the bot

    async def slash(
        self,
        user: FakeUser,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        dm: bool = False,
    ) -> Interaction:
        """``user`` runs ``/command`` (``"group sub"`` for subcommands) with ``options``.

        In a guild channel by default (``channel``, else the guild's first text channel), in
        the user's DM with the bot when ``dm=True``. Returns once the event is sent.
        """
        guild, channel = self._place(user, guild, channel, dm)
        spec, path = self._find_command(command, guild, user, kind=1)
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(spec, path, dict(options or {}), guild, resolved, focused=None)
        data: dict[str, Any] = {
            "id": spec["id"],
            "name": spec["name"],
            "type": 1,
            "options": built,
        }
        if resolved:
            data["resolved"] = resolved
        if spec.get("guild_id"):
            data["guild_id"] = spec["guild_id"]
        interaction = self._new_interaction(APPLICATION_COMMAND, user, channel, guild, data)
        await self._dispatch_interaction(interaction)
        return interaction

    async def autocomplete(
        self,
        user: FakeUser,
        command: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        dm: bool = False,
    ) -> list[dict[str, Any]]:
        """``user`` types ``value`` into option ``focused`` of ``/command``; return the choices."""
        guild, channel = self._place(user, guild, channel, dm)
        spec, path = self._find_command(command, guild, user, kind=1)
        given = dict(options or {})
        given[focused] = value
        built = self._build_options(spec, path, given, guild, {}, focused=focused)
        data: dict[str, Any] = {"id": spec["id"], "name": spec["name"], "type": 1, "options": built}
        if spec.get("guild_id"):
            data["guild_id"] = spec["guild_id"]
        interaction = self._new_interaction(AUTOCOMPLETE, user, channel, guild, data)
        await self._dispatch_interaction(interaction)
        return await interaction.choices()

    async def click(
        self,
        message: FakeMessage,
        custom_id: str | None = None,
        *,
        user: FakeUser,
        label: str | None = None,
    ) -> Interaction:
        """``user`` clicks the button ``custom_id`` (or the one labelled ``label``) on a message."""
        if (custom_id is None) == (label is None):
            raise ScenarioError("name the button by custom_id or by label")
        button = message.button(label) if label is not None else message.component(custom_id or "")
        if button.get("type") != 2:
            raise ScenarioError(f"{custom_id!r} is not a button")
        if button.get("style") == 5:
            raise ScenarioError("a link button opens a URL; it sends no interaction")
        if button.get("disabled"):
            raise ScenarioError(f"button {button.get('label')!r} is disabled")
        return await self._component(
            message, user, {"custom_id": button["custom_id"], "component_type": 2}
        )

    async def forged_click(
        self, message: FakeMessage, label: str, custom_id: str, *, user: FakeUser
    ) -> Interaction:
        """A hostile client clicks the button ``label`` but sends ``custom_id`` instead of its id.

        The id is replaced in the interaction's data and in the copy of the message it carries
        (discord.py drops a click whose id is not on the message), as a tampering client or
        proxy would. A bot must treat every custom id as input.
        """
        original = message.button(label)["custom_id"]
        if message.deleted:
            raise ScenarioError("the message was deleted")
        channel = message.channel
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        data = {"custom_id": custom_id, "component_type": 2}
        interaction = self._new_interaction(
            MESSAGE_COMPONENT, user, channel, guild, data, message=message
        )
        interaction.payload["message"] = _replace_custom_id(
            interaction.payload["message"], original, custom_id
        )
        interaction.source_message = message
        await self._dispatch_interaction(interaction)
        return interaction

    async def select(
        self, message: FakeMessage, custom_id: str, values: list[str], *, user: FakeUser
    ) -> Interaction:
        """``user`` picks ``values`` in the select menu ``custom_id`` on ``message``."""
        menu = message.component(custom_id)
        kind = menu.get("type")
        if kind not in _limits.SELECTS:
            raise ScenarioError(f"{custom_id!r} is not a select menu")
        if menu.get("disabled"):
            raise ScenarioError(f"select {custom_id!r} is disabled")
        low, high = menu.get("min_values", 1), menu.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ScenarioError(
                f"select {custom_id!r} takes {low} to {high} values, not {len(values)}"
            )
        if kind == _limits.STRING_SELECT:
            offered = [o["value"] for o in menu.get("options") or []]
            for value in values:
                if value not in offered:
                    raise ScenarioError(f"{value!r} is not an option of {custom_id!r}: {offered}")
        data = {"custom_id": custom_id, "component_type": kind, "values": list(values)}
        return await self._component(message, user, data)

    async def submit_modal(
        self, modal: FakeModal | Interaction, values: Mapping[str, str | list[str]]
    ) -> Interaction:
        """The user who got ``modal`` fills it with ``values`` (by custom_id) and submits it."""
        if isinstance(modal, Interaction):
            if modal.opened_modal is None:
                raise ScenarioError(f"{modal!r} opened no modal")
            modal = modal.opened_modal
        source = modal.source
        known = {i["custom_id"] for i in walk_components(modal.components) if i.get("custom_id")}
        extra = set(values) - known
        if extra:
            raise ScenarioError(f"the modal has no inputs {sorted(extra)}; it has {sorted(known)}")
        components = [self._submitted(component, values) for component in modal.components]
        data = {"custom_id": modal.custom_id, "components": [c for c in components if c]}
        interaction = self._new_interaction(
            MODAL_SUBMIT,
            source.user,
            source.channel,
            source.guild,
            data,
            message=source.source_message if source.type == MESSAGE_COMPONENT else None,
        )
        interaction.parent = source
        if source.type == MESSAGE_COMPONENT:
            interaction.source_message = source.source_message
        await self._dispatch_interaction(interaction)
        return interaction

    async def user_says(
        self,
        user: FakeUser,
        channel: FakeChannel,
        content: str,
        *,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """``user`` posts ``content`` in ``channel`` (a thread, a DM...): MESSAGE_CREATE."""
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            if user.id not in guild.members:
                raise ScenarioError(f"{user!r} is not a member of {guild!r}")
            if channel.is_thread and channel.locked:
                raise ScenarioError("the thread is locked")
            if (
                channel.is_thread
                and channel.type == PRIVATE_THREAD
                and user.id not in channel.thread_member_ids
            ):
                raise ScenarioError(f"{user!r} is not in the private thread")
        elif channel.recipient is not user:
            raise ScenarioError(f"{user!r} cannot post in another user's DM")
        await self.settled()
        reference = None
        if reply_to is not None:
            reference = {"message_id": str(reply_to.id), "channel_id": str(channel.id)}
        message = self._store_message(
            channel,
            user,
            {"content": content, "message_reference": reference},
            [],
            msg_type=MSG_REPLY if reply_to else MSG_DEFAULT,
        )
        await self._announce("MESSAGE_CREATE", message)
        return message

    async def dispatch_raw(
        self, event: str, data: dict[str, Any], *, guild_id: int | None = None
    ) -> None:
        """Send any gateway event as it is, to the live sessions owning ``guild_id``."""
        for session in self.live_sessions():
            if session.owns_guild(guild_id):
                await session.dispatch(event, data)

    async def gateway_outage(self) -> None:
        """The gateway goes away: live connections close (4000: resumable) and new ones are
        refused with 503 until :meth:`gateway_back`."""
        self.gateway_down = True
        for ws in list(self._connections):
            await ws.close(code=4000, message=b"outage")

    def gateway_back(self) -> None:
        """The gateway accepts connections again (the client reconnects after its back-off)."""
        self.gateway_down = False

    async def reconnect(self) -> None:
        """Ask every live session to reconnect (op 7) and wait until each has resumed."""
        sessions = self.live_sessions()
        for session in sessions:
            session.resumed.clear()
            await session.send({"op": RECONNECT, "d": None})
        for session in sessions:
            async with asyncio.timeout(self.wait_timeout):
                await session.resumed.wait()

    # ------------------------------------------------------------------ interaction plumbing

    def _place(
        self, user: FakeUser, guild: FakeGuild | None, channel: FakeChannel | None, dm: bool
    ) -> tuple[FakeGuild | None, FakeChannel]:
        if dm or (channel is not None and channel.is_dm):
            return None, self.dm_channel(user)
        if channel is not None:
            guild = self.guilds[channel.guild_id] if channel.guild_id else guild
        elif guild is None:
            guild = self.guild
        assert guild is not None
        if channel is None:
            channel = next(c for c in guild.channels.values() if c.type == GUILD_TEXT)
        if user.id not in guild.members:
            raise ScenarioError(f"{user!r} is not a member of {guild!r}")
        return guild, channel

    def _find_command(
        self, command: str, guild: FakeGuild | None, user: FakeUser, *, kind: int
    ) -> tuple[dict[str, Any], list[str]]:
        root, *path = command.strip("/").split()
        spec = None
        if guild is not None:
            spec = self._commands.get(guild.id, {}).get((kind, root))
        if spec is None:
            spec = self._commands.get(None, {}).get((kind, root))
            if spec is not None and guild is None:
                contexts = spec.get("contexts")
                if (contexts is not None and 1 not in contexts) or spec.get(
                    "dm_permission"
                ) is False:
                    raise ScenarioError(f"/{root} is not offered in DMs (contexts {contexts})")
        if spec is None:
            synced = sorted(n for store in self._commands.values() for (_, n) in store)
            raise ScenarioError(f"/{root} is not synced (synced commands: {synced})")
        required = spec.get("default_member_permissions")
        opened = self.command_roles.get((guild.id, root), set()) if guild is not None else set()
        member = guild.members.get(user.id) if guild is not None else None
        if member is not None and opened & set(member.role_ids):
            required = None  # an admin opened the command to one of the member's roles
        if guild is not None and required is not None:
            needed = int(required)
            if guild.permissions_of(user.id) & needed != needed or (
                needed == 0 and user.id != guild.owner_id
            ):
                raise ScenarioError(
                    f"{user!r} lacks the permissions {needed} that /{root} requires"
                )
        return spec, path

    def _build_options(
        self,
        spec: dict[str, Any],
        path: list[str],
        given: dict[str, Any],
        guild: FakeGuild | None,
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        node = spec
        for name in path:
            node = next(
                (o for o in node.get("options") or [] if o["name"] == name and o["type"] in (1, 2)),
                {},
            )
            if not node:
                raise ScenarioError(f"/{spec['name']} has no subcommand {' '.join(path)!r}")
        if any(o["type"] in (1, 2) for o in node.get("options") or []):
            raise ScenarioError(f"/{spec['name']} needs a subcommand")
        declared = {o["name"]: o for o in node.get("options") or []}
        unknown_names = set(given) - set(declared)
        if unknown_names:
            raise ScenarioError(
                f"/{spec['name']} has no options {sorted(unknown_names)}; it has {sorted(declared)}"
            )
        built: list[dict[str, Any]] = []
        for name, option in declared.items():
            if name not in given:
                if option.get("required") and focused is None:
                    raise ScenarioError(f"/{spec['name']}: option {name!r} is required")
                continue
            if name == focused:
                built.append(
                    {
                        "name": name,
                        "type": option["type"],
                        "value": str(given[name]),
                        "focused": True,
                    }
                )
            else:
                value = self._option_value(option, given[name], guild, resolved)
                built.append({"name": name, "type": option["type"], "value": value})
        for depth in range(len(path) - 1, -1, -1):
            # The innermost level is the subcommand (1); anything above it is a group (2).
            built = [
                {"name": path[depth], "type": 1 if depth == len(path) - 1 else 2, "options": built}
            ]
        return built

    def _option_value(
        self,
        option: dict[str, Any],
        value: Any,
        guild: FakeGuild | None,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        kind, name = option["type"], option["name"]
        choices = [c["value"] for c in option.get("choices") or []]
        if choices and value not in choices:
            raise ScenarioError(f"option {name!r} must be one of {choices}, not {value!r}")
        if kind == 3:
            if not isinstance(value, str):
                raise ScenarioError(f"option {name!r} takes a string")
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise ScenarioError(f"option {name!r} takes {low} to {high} characters")
            return value
        if kind in (4, 10):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (kind == 4 and not isinstance(value, int))
            ):
                raise ScenarioError(
                    f"option {name!r} takes a {'integer' if kind == 4 else 'number'}"
                )
            if option.get("min_value") is not None and value < option["min_value"]:
                raise ScenarioError(f"option {name!r} is at least {option['min_value']}")
            if option.get("max_value") is not None and value > option["max_value"]:
                raise ScenarioError(f"option {name!r} is at most {option['max_value']}")
            return value
        if kind == 5:
            if not isinstance(value, bool):
                raise ScenarioError(f"option {name!r} takes a boolean")
            return value
        if kind in (6, 9) and isinstance(value, FakeUser | FakeMember):
            user = value.user if isinstance(value, FakeMember) else value
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            if guild is not None and user.id in guild.members:
                member = guild.members[user.id].payload(with_user=False)
                member["permissions"] = str(guild.permissions_of(user.id))
                resolved.setdefault("members", {})[str(user.id)] = member
            return str(user.id)
        if kind in (8, 9) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if kind == 7 and isinstance(value, FakeChannel):
            allowed = option.get("channel_types")
            if allowed and value.type not in allowed:
                raise ScenarioError(f"option {name!r} takes channels of types {allowed}")
            payload = value.payload()
            payload["permissions"] = str(guild.permissions_of(self.bot_user.id) if guild else 0)
            resolved.setdefault("channels", {})[str(value.id)] = payload
            return str(value.id)
        if kind == 11 and isinstance(value, tuple):
            filename, data, *rest = value
            content_type = rest[0] if rest else None
            attachment = self._new_attachment(0, filename, content_type, data, None, ephemeral=True)
            resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.payload()
            return str(attachment.id)
        raise ScenarioError(f"option {name!r} (type {kind}) cannot take {value!r}")

    def _submitted(
        self, component: dict[str, Any], values: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        kind = component.get("type")
        if kind == 1:
            return {
                "type": 1,
                "components": [self._submitted(c, values) for c in component["components"]],
            }
        if kind == 18:
            return {"type": 18, "component": self._submitted(component["component"], values)}
        if kind == 4:
            custom_id = component["custom_id"]
            value = values.get(custom_id, component.get("value") or "")
            if not isinstance(value, str):
                raise ScenarioError(f"input {custom_id!r} takes text")
            if component.get("required", True) and not value:
                raise ScenarioError(f"input {custom_id!r} is required")
            low, high = component.get("min_length") or 0, component.get("max_length") or 4000
            if value and not low <= len(value) <= high:
                raise ScenarioError(f"input {custom_id!r} takes {low} to {high} characters")
            return {"type": 4, "custom_id": custom_id, "value": value}
        if kind in _limits.SELECTS:
            chosen = values.get(component["custom_id"], [])
            return {"type": kind, "custom_id": component["custom_id"], "values": list(chosen)}
        return None

    async def _component(
        self, message: FakeMessage, user: FakeUser, data: dict[str, Any]
    ) -> Interaction:
        if message.deleted:
            raise ScenarioError("the message was deleted")
        if message.ephemeral:
            owner = self.interactions.get(message.interaction_id or 0)
            if owner is None or owner.user is not user:
                raise ScenarioError("only the user who got an ephemeral message can click on it")
        channel = message.channel
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is None and channel.recipient is not user:
            raise ScenarioError(f"{user!r} cannot see a message in another user's DM")
        if guild is not None and user.id not in guild.members:
            raise ScenarioError(f"{user!r} is not a member of {guild!r}")
        interaction = self._new_interaction(
            MESSAGE_COMPONENT, user, channel, guild, data, message=message
        )
        interaction.source_message = message
        await self._dispatch_interaction(interaction)
        return interaction

    def _new_interaction(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        guild: FakeGuild | None,
        data: dict[str, Any],
        *,
        message: FakeMessage | None = None,
    ) -> Interaction:
        interaction_id = self.ids.next()
        token = new_token()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": user.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
        }
        if guild is not None:
            member = guild.members[user.id].payload()
            member["permissions"] = str(guild.permissions_of(user.id))
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "member": member,
                    "app_permissions": str(guild.channel_permissions_of(self.bot_user.id, channel)),
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": user.payload(),
                    "app_permissions": str(DEFAULT_BOT_PERMISSIONS),
                    "authorizing_integration_owners": {"0": "0"},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = self._message_payload(message)
        interaction = Interaction(self, interaction_id, token, kind, user, channel, guild, payload)
        self.interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        return interaction

    async def _dispatch_interaction(
        self, interaction: Interaction, *, redelivery: bool = False
    ) -> None:
        await self.settled()
        guild_id = interaction.guild.id if interaction.guild else None
        live = [s for s in self.sessions if s.live and s.owns_guild(guild_id)]
        if not live:
            raise ScenarioError(f"no bot is connected to receive {interaction!r}")
        if not redelivery:
            interaction._start_deadline(self.response_deadline)
        # Discord sends an interaction to one session: the newest one of the shard.
        await live[-1].dispatch("INTERACTION_CREATE", interaction.payload)

    # ------------------------------------------------------------------ dispatching events

    def _sessions_for(self, guild_id: int | None, intent: int) -> list[GatewaySession]:
        return [s for s in self.sessions if s.live and s.owns_guild(guild_id) and s.wants(intent)]

    async def _announce(self, event: str, message: FakeMessage) -> None:
        """MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE to the sessions that get them."""
        if message.ephemeral:
            return
        channel = message.channel
        intent = DIRECT_MESSAGES if channel.is_dm else GUILD_MESSAGES
        for session in self._sessions_for(channel.guild_id, intent):
            if event == "MESSAGE_DELETE":
                data: dict[str, Any] = {"id": str(message.id), "channel_id": str(channel.id)}
                if channel.guild_id:
                    data["guild_id"] = str(channel.guild_id)
            else:
                data = self._message_payload(message)
                if not self._content_visible(session, message):
                    data.update({"content": "", "embeds": [], "attachments": [], "components": []})
            await session.dispatch(event, data)

    def _content_visible(self, session: GatewaySession, message: FakeMessage) -> bool:
        # Without MESSAGE_CONTENT an app still sees DMs, its own messages and mentions of it.
        return (
            session.wants(MESSAGE_CONTENT)
            or message.channel.is_dm
            or message.author is self.bot_user
            or self.bot_user in message.mentions
        )

    async def _announce_thread(
        self, event: str, thread: FakeChannel, *, created: bool = False
    ) -> None:
        data = thread.payload()
        if created:
            data["newly_created"] = True
        for session in self._sessions_for(thread.guild_id, GUILDS):
            await session.dispatch(event, data)

    # ------------------------------------------------------------------ messages

    def _new_attachment(
        self,
        channel_id: int,
        filename: str,
        content_type: str | None,
        data: bytes,
        description: str | None,
        *,
        ephemeral: bool = False,
    ) -> FakeAttachment:
        if not content_type or content_type == "application/octet-stream":
            # discord.py labels every upload octet-stream; Discord goes by the file name.
            content_type = mimetypes.guess_type(filename)[0] or content_type
        attachment_id = self.ids.next()
        attachment = FakeAttachment(
            attachment_id,
            filename,
            content_type,
            data,
            description,
            url=f"{self.url}/attachments/{channel_id}/{attachment_id}/{filename}",
            ephemeral=ephemeral,
        )
        self.attachments[attachment_id] = attachment
        return attachment

    def _attachments(
        self,
        channel: FakeChannel,
        body: Mapping[str, Any],
        uploads: list[Upload],
        existing: list[FakeAttachment],
        *,
        ephemeral: bool,
    ) -> list[FakeAttachment]:
        by_field = {u.field: u for u in uploads}
        entries = body.get("attachments")
        result: list[FakeAttachment] = [] if entries is not None else list(existing)
        used: set[str] = set()
        errors = FormErrors()
        for i, entry in enumerate(entries or []):
            entry_id = str(entry.get("id"))
            upload = by_field.get(f"files[{entry_id}]")
            if upload is not None:
                used.add(upload.field)
                result.append(
                    self._new_attachment(
                        channel.id,
                        entry.get("filename") or upload.filename,
                        upload.content_type,
                        upload.data,
                        entry.get("description"),
                        ephemeral=ephemeral,
                    )
                )
                continue
            kept = next((a for a in existing if str(a.id) == entry_id), None)
            if kept is None:
                errors.add(f"attachments.{i}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
            else:
                result.append(kept)
        errors.raise_if_any()
        for upload in uploads:
            if upload.field not in used:
                result.append(
                    self._new_attachment(
                        channel.id,
                        upload.filename,
                        upload.content_type,
                        upload.data,
                        None,
                        ephemeral=ephemeral,
                    )
                )
        if len(result) > 10:
            errors.add("attachments", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        errors.raise_if_any()
        return result

    def _store_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: Mapping[str, Any],
        uploads: list[Upload],
        *,
        msg_type: int = MSG_DEFAULT,
        flags: int | None = None,
        interaction: Interaction | None = None,
    ) -> FakeMessage:
        """A new message from a validated body."""
        flags = (body.get("flags") or 0) if flags is None else flags
        message = FakeMessage(self.ids.next(), channel, author, type=msg_type, flags=flags)
        if interaction is not None:
            message.interaction_id = interaction.id
            message.webhook_id = self.application_id
            message.application_id = self.application_id
            message.interaction_metadata = self._interaction_metadata(interaction)
        message.message_reference = body.get("message_reference")
        message.tts = bool(body.get("tts"))
        self._fill(message, body, uploads, editing=False)
        self.messages[message.id] = message
        channel.last_message_id = message.id
        if channel.is_thread:
            channel.message_count += 1
        self._changes.notify()
        return message

    def _fill(
        self, message: FakeMessage, body: Mapping[str, Any], uploads: list[Upload], *, editing: bool
    ) -> None:
        """Apply a (validated) create or edit body to ``message``."""
        if editing:
            message.versions.append(self._message_payload(message))
            message.edited_timestamp = iso_now()
        if "content" in body or not editing:
            message.content = body.get("content") or ""
        if "embeds" in body or not editing:
            message.embeds = list(body.get("embeds") or [])
        if "components" in body or not editing:
            message.components = list(body.get("components") or [])
        if editing and body.get("flags") is not None:
            keep = message.flags & (FLAG_EPHEMERAL | FLAG_LOADING)
            message.flags = keep | (body["flags"] & ~FLAG_EPHEMERAL)
        if uploads or "attachments" in body or not editing:
            message.attachments = self._attachments(
                message.channel, body, uploads, message.attachments, ephemeral=message.ephemeral
            )
        if "allowed_mentions" in body or not editing:
            message.allowed_mentions = body.get("allowed_mentions")
        guild = self.guilds.get(message.channel.guild_id or 0)
        replied = None
        if message.message_reference:
            referenced = self.messages.get(int(message.message_reference.get("message_id") or 0))
            replied = referenced.author if referenced else None
        message.mentions, message.mention_role_ids, message.mention_everyone = resolve_mentions(
            message.content,
            message.allowed_mentions,
            self.users,
            guild.roles if guild else {},
            replied,
        )
        message.arrived_at = time.perf_counter()

    def _interaction_metadata(self, interaction: Interaction) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": interaction.user.payload(),
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }
        if interaction.type == APPLICATION_COMMAND:
            metadata["name"] = interaction.data.get("name")
            metadata["command_type"] = 1
        if interaction.original is not None:
            metadata["original_response_message_id"] = str(interaction.original.id)
        if interaction.source_message is not None:
            metadata["interacted_message_id"] = str(interaction.source_message.id)
        return metadata

    def _message_payload(self, message: FakeMessage) -> dict[str, Any]:
        channel = message.channel
        payload: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(channel.id),
            "author": message.author.payload(),
            "content": message.content,
            "timestamp": message.timestamp,
            "edited_timestamp": message.edited_timestamp,
            "tts": message.tts,
            "mention_everyone": message.mention_everyone,
            "mentions": [u.payload() for u in message.mentions],
            "mention_roles": [str(r) for r in message.mention_role_ids],
            "attachments": [a.payload() for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
        }
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
            member = self.guilds[channel.guild_id].members.get(message.author.id)
            if member is not None:
                payload["member"] = member.payload(with_user=False)
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(message.application_id)
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            payload["message_reference"] = {"type": 0, **message.message_reference}
        if message.thread is not None:
            payload["thread"] = message.thread.payload()
        if message.reactions:
            payload["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"normal": len(users), "burst": 0},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in message.reactions.items()
                if users
            ]
        return payload

    # ------------------------------------------------------------------ the bot settling

    def bot_consumed(self, method: str, url: str) -> None:
        """The bot has finished handling the response to ``method url`` (called by the harness).

        Reported with ``call_soon`` so that the code discord.py runs right after the request
        returns (storing a view under the new message id) has run when the fake counts it.
        """
        asyncio.get_running_loop().call_soon(self._consume, method, yarl.URL(url).path)

    def _consume(self, method: str, path: str) -> None:
        key = (method, path)
        if self._unconsumed[key] > 0:
            self._unconsumed[key] -= 1
            if not self._unconsumed[key]:
                del self._unconsumed[key]
            self._changes.notify()

    async def settled(self) -> None:
        """Wait until the bot has handled every response the fake sent it.

        A person clicks a button after Discord showed the message, long after discord.py
        stored the button's view under the message id; a test clicking at once would race
        that and the click would be silently dropped. Every user action waits for this.
        """
        if self.tracking:
            await self._changes.wait_until(
                lambda: True if not self._unconsumed else None,
                self.wait_timeout,
                f"the bot to finish handling responses to {sorted(self._unconsumed)}",
            )

    async def add_reaction(self, message: FakeMessage, user: FakeUser, emoji: str) -> None:
        """``user`` reacts to ``message`` with a unicode ``emoji``: MESSAGE_REACTION_ADD."""
        await self.settled()
        message.reactions.setdefault(emoji, set()).add(user.id)
        self._changes.notify()
        channel = message.channel
        intent = DIRECT_MESSAGES if channel.is_dm else GUILD_MESSAGE_REACTIONS
        data: dict[str, Any] = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": str(message.id),
            "message_author_id": str(message.author.id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            data["member"] = self.guilds[channel.guild_id].members[user.id].payload()
        for session in self._sessions_for(channel.guild_id, intent):
            await session.dispatch("MESSAGE_REACTION_ADD", data)


def _replace_custom_id(node: Any, old: str, new: str) -> Any:
    """A copy of a payload with every ``custom_id`` equal to ``old`` set to ``new``."""
    if isinstance(node, dict):
        return {
            key: new if key == "custom_id" and value == old else _replace_custom_id(value, old, new)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_replace_custom_id(item, old, new) for item in node]
    return node
