"""The fake's world: users, guilds, roles, channels, threads, members, messages, attachments.

Each object knows how to write itself as the JSON payload Discord sends for it.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from ._ids import iso_from_snowflake, iso_now
from ._limits import FLAG_EPHEMERAL, FLAG_LOADING

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

# Message types.
MSG_DEFAULT = 0
MSG_REPLY = 19
MSG_CHAT_INPUT_COMMAND = 20
MESSAGEABLE_TYPES = (GUILD_TEXT, DM, GUILD_ANNOUNCEMENT, *THREAD_TYPES)

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone may do in a freshly made guild (the parts that matter here).
DEFAULT_EVERYONE_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)
#: The bot's managed role: what a typical invite link grants a tutor bot.
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS


@dataclass(eq=False)
class FakeUser:
    """A Discord user (a learner, a mentor or the bot itself)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_open: bool = True
    locale: str = "en-US"

    @property
    def mention(self) -> str:
        """``<@id>``, as a message would mention this user."""
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The user object."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }

    def __repr__(self) -> str:
        return f"<FakeUser {self.username} {self.id}>"


@dataclass(eq=False)
class FakeRole:
    """A guild role. The @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    mentionable: bool = False

    @property
    def mention(self) -> str:
        """``<@&id>``."""
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The role object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeChannel:
    """A guild channel, a thread, or a DM channel (``guild_id`` None, ``recipient`` set)."""

    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    owner_id: int | None = None
    recipient: FakeUser | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: str = field(default_factory=iso_now)
    thread_member_ids: set[int] = field(default_factory=set)
    message_count: int = 0
    last_message_id: int | None = None
    #: The message a thread was started from (threads only).
    starter_message_id: int | None = None
    #: Member permission overwrites: user id -> (allow, deny) bits (threads use the parent's).
    member_overwrites: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def is_thread(self) -> bool:
        """True for the three thread types."""
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        """True for a direct-message channel."""
        return self.type == DM

    @property
    def mention(self) -> str:
        """``<#id>``."""
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        """The channel (or thread) object."""
        if self.type == DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": _opt_id(self.last_message_id),
                "recipients": [self.recipient.payload()],
                "flags": 0,
            }
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": _opt_id(self.parent_id),
            "last_message_id": _opt_id(self.last_message_id),
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.is_thread:
            payload.update(
                {
                    "owner_id": _opt_id(self.owner_id),
                    "message_count": self.message_count,
                    "total_message_sent": self.message_count,
                    "member_count": len(self.thread_member_ids),
                    "applied_tags": [],
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": self.archive_timestamp,
                        "locked": self.locked,
                        "invitable": True,
                        "create_timestamp": iso_from_snowflake(self.id),
                    },
                }
            )
        else:
            payload.update(
                {
                    "position": self.position,
                    "permission_overwrites": [
                        {"id": str(uid), "type": 1, "allow": str(allow), "deny": str(deny)}
                        for uid, (allow, deny) in self.member_overwrites.items()
                    ],
                    "topic": self.topic,
                    "nsfw": False,
                }
            )
        return payload

    def __repr__(self) -> str:
        return f"<FakeChannel #{self.name or 'dm'} {self.id} type={self.type}>"


@dataclass(eq=False)
class FakeMember:
    """A user's membership of a guild."""

    guild_id: int
    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """The guild member object."""
        payload: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user.payload()
        return payload


@dataclass(eq=False)
class FakeGuild:
    """A guild with its roles, channels (threads included) and members."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)

    def channel(self, name: str) -> FakeChannel:
        """The channel (or thread) called ``name``."""
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")

    def role(self, name: str) -> FakeRole:
        """The role called ``name``."""
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name!r} has no role {name!r}")

    @property
    def everyone(self) -> FakeRole:
        """The @everyone role."""
        return self.roles[self.id]

    @property
    def threads(self) -> list[FakeChannel]:
        """Every thread of the guild."""
        return [c for c in self.channels.values() if c.is_thread]

    def permissions_of(self, user_id: int) -> int:
        """A member's guild-level permissions (roles only; no channel overwrites)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        value = self.everyone.permissions
        for role_id in member.role_ids:
            value |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def channel_permissions_of(self, user_id: int, channel: FakeChannel) -> int:
        """A member's permissions in ``channel``: guild roles, then member overwrites."""
        value = self.permissions_of(user_id)
        if value & ADMINISTRATOR or user_id == self.owner_id:
            return value
        source = self.channels.get(channel.parent_id) if channel.is_thread else channel
        allow, deny = (source or channel).member_overwrites.get(user_id, (0, 0))
        return (value & ~deny) | allow

    def payload(self, *, with_members: bool, bot_user_id: int) -> dict[str, Any]:
        """The GUILD_CREATE payload. Without the members intent only the bot's own member."""
        members = [
            m.payload() for m in self.members.values() if with_members or m.user.id == bot_user_id
        ]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.payload() for r in self.roles.values()],
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": iso_from_snowflake(self.id),
            "members": members,
            "channels": [c.payload() for c in self.channels.values() if not c.is_thread],
            "threads": [
                c.payload() for c in self.channels.values() if c.is_thread and not c.archived
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def __repr__(self) -> str:
        return f"<FakeGuild {self.name} {self.id}>"


@dataclass(eq=False)
class FakeAttachment:
    """A file a message carries: the bytes the bot uploaded, as Discord stored them."""

    id: int
    filename: str
    content_type: str | None
    data: bytes
    description: str | None = None
    url: str = ""
    ephemeral: bool = False

    @property
    def size(self) -> int:
        """Length in bytes."""
        return len(self.data)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` when the bytes are a PNG, else None."""
        if self.data[:8] == b"\x89PNG\r\n\x1a\n" and self.data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", self.data[16:24])
            return width, height
        return None

    def payload(self) -> dict[str, Any]:
        """The attachment object."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "ephemeral": self.ephemeral,
        }
        if self.content_type:
            payload["content_type"] = self.content_type
        if self.description:
            payload["description"] = self.description
        dims = self.image_size
        if dims is not None:
            payload["width"], payload["height"] = dims
        return payload


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class FakeMessage:
    """A message as the fake stores it: current state, earlier versions, who it pings."""

    id: int
    channel: FakeChannel
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    #: The ``allowed_mentions`` object the bot sent with the latest version (None if absent).
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    tts: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    #: The id of the interaction this message answers (responses and followups).
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    deleted: bool = False
    #: Earlier versions (payload snapshots), oldest first.
    versions: list[dict[str, Any]] = field(default_factory=list)
    thread: FakeChannel | None = None
    mentions: list[FakeUser] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    reactions: dict[str, set[int]] = field(default_factory=dict)
    #: ``time.perf_counter()`` when the current version arrived at the fake.
    arrived_at: float = field(default_factory=time.perf_counter)

    @property
    def ephemeral(self) -> bool:
        """Only the interacting user sees it."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred response still "thinking"."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def embed(self) -> dict[str, Any]:
        """The only embed (fails if there is not exactly one)."""
        assert len(self.embeds) == 1, f"expected one embed, message has {len(self.embeds)}"
        return self.embeds[0]

    @property
    def text(self) -> str:
        """Everything a reader sees as text: content, embeds, V2 text displays, labels."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [
                (embed.get("author") or {}).get("name") or "",
                embed.get("title") or "",
                embed.get("description") or "",
            ]
            for f in embed.get("fields") or []:
                parts += [str(f.get("name")), str(f.get("value"))]
            parts.append((embed.get("footer") or {}).get("text") or "")
        for component in walk_components(self.components):
            for key in ("content", "label", "placeholder"):
                if component.get(key):
                    parts.append(str(component[key]))
        return "\n".join(p for p in parts if p)

    def components_of_type(self, *types: int) -> list[dict[str, Any]]:
        """Every component (nested ones too) of the given types."""
        return [c for c in walk_components(self.components) if c.get("type") in types]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button, in reading order."""
        return self.components_of_type(2)

    def button(self, label: str) -> dict[str, Any]:
        """The button whose label is ``label``."""
        for button in self.buttons:
            if button.get("label") == label:
                return button
        labels = [b.get("label") for b in self.buttons]
        raise KeyError(f"no button labelled {label!r}; buttons: {labels}")

    def component(self, custom_id: str) -> dict[str, Any]:
        """The component with this ``custom_id``."""
        for component in walk_components(self.components):
            if component.get("custom_id") == custom_id:
                return component
        ids = [c.get("custom_id") for c in walk_components(self.components) if c.get("custom_id")]
        raise KeyError(f"message {self.id} has no component {custom_id!r}; it has {ids}")

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        return f"<FakeMessage {self.id} in {self.channel.id}{flags} {self.text[:60]!r}>"


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component of a tree, depth first (rows, sections, containers, accessories)."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found += walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                found += walk_components([component[key]])
    return found


def resolve_mentions(
    content: str,
    allowed: dict[str, Any] | None,
    users: dict[int, FakeUser],
    roles: dict[int, FakeRole],
    replied_user: FakeUser | None,
) -> tuple[list[FakeUser], list[int], bool]:
    """Who a message really pings, given its ``allowed_mentions`` (None means "parse all")."""
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    mentioned: list[FakeUser] = []
    for match in _USER_MENTION.finditer(content):
        uid = int(match.group(1))
        if (
            uid in users
            and ("users" in parse or uid in allowed_users)
            and users[uid] not in mentioned
        ):
            mentioned.append(users[uid])
    role_ids = [
        int(m.group(1))
        for m in _ROLE_MENTION.finditer(content)
        if int(m.group(1)) in roles and ("roles" in parse or int(m.group(1)) in allowed_roles)
    ]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    replied = True if allowed is None else bool(allowed.get("replied_user", False))
    if replied_user is not None and replied and replied_user not in mentioned:
        mentioned.append(replied_user)
    return mentioned, role_ids, everyone


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)
