"""What the bot needs in a channel to post daily quizzes, and whether a role may be pinged."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import InvalidInputError

#: (permission attribute, name in Discord's settings), needed for every daily quiz.
POSTING = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("read_message_history", "Read Message History"),  # to find its post again after a crash
)
THREADS = (
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)


def missing_permissions(
    channel: discord.abc.GuildChannel, me: discord.Member, *, thread: bool
) -> list[str]:
    """The permissions the bot lacks in ``channel`` (names as Discord's settings show them)."""
    permissions = channel.permissions_for(me)
    wanted = POSTING + (THREADS if thread else ())
    return [name for attr, name in wanted if not getattr(permissions, attr)]


def bot_member(interaction: discord.Interaction[Any]) -> discord.Member | None:
    """The bot's own member in the interaction's server (``None`` if not cached)."""
    guild = interaction.guild
    return guild.me if guild is not None else None


def check_ping_role(
    role: discord.Role, channel: discord.abc.GuildChannel, me: discord.Member | None
) -> None:
    """Refuse @everyone, and a role the bot could not ping (not mentionable, no permission)."""
    if role.is_default():
        raise InvalidInputError(
            "I never ping @everyone. Make a role for quiz fans (e.g. `@Daily quiz`) and pick it."
        )
    if role.mentionable:
        return
    if me is not None and channel.permissions_for(me).mention_everyone:
        return
    raise InvalidInputError(
        f"I can't ping {role.mention}: it is not mentionable. Turn on **Allow anyone to "
        "@mention this role** (Server Settings → Roles), or give me **Mention @everyone, @here "
        "and All Roles**, then try again."
    )
