"""How /config shows a server's settings and explains who may use the moderator commands."""

from __future__ import annotations

import discord

from bot.errors import InvalidInputError
from bot.services.guild_config import GuildSettings
from bot.ui.embeds import COURSE_COLOUR, INFO_COLOUR
from bot.ui.text import truncate

PERMISSIONS_HELP = (
    "`/schedule` and `/config` are shown to members with **Manage Server**. To open them to "
    "your moderators: **Server Settings → Integrations → tutorbot**, pick the command, add "
    "the moderators' role (or channels). I check again on every use: Manage Server, or the "
    "moderator role set here with `/config moderator-role`; anyone else is refused.\n"
    "Daily quizzes need me to have View Channel, Send Messages, Embed Links and Read Message "
    "History in their channel (plus Create Public Threads with `thread`); `/schedule add` "
    "tells you what is missing."
)


def check_role(role: discord.Role) -> None:
    """@everyone and bot roles are no moderator or maintainer role."""
    if role.is_default():
        raise InvalidInputError("Pick a real role, not @everyone.")
    if role.managed:
        raise InvalidInputError(f"{role.mention} belongs to an app or integration; pick another.")


def done(text: str) -> str:
    """The line above the settings after a change."""
    return truncate(f"\u2705 {text}", 2000)


def _channels(ids: frozenset[int]) -> str:
    if not ids:
        return "every channel"
    return truncate(", ".join(f"<#{i}>" for i in sorted(ids)), 1000)


def settings_embed(settings: GuildSettings, operator_budget: int) -> discord.Embed:
    """The server's settings, defaults included."""
    embed = discord.Embed(title="Server settings", colour=COURSE_COLOUR)

    def role(role_id: int | None, default: str) -> str:
        return f"<@&{role_id}>" if role_id else default

    embed.add_field(
        name="Moderator role",
        value=role(settings.moderator_role_id, "none (Manage Server only)"),
    )
    embed.add_field(name="Maintainer role", value=role(settings.maintainer_role_id, "none"))
    embed.add_field(name="Time zone", value=settings.timezone)
    embed.add_field(
        name="Notice channel",
        value=f"<#{settings.notice_channel_id}>" if settings.notice_channel_id
        else "none (I DM the quiz's creator)",
    )
    embed.add_field(name="/ask channels", value=_channels(settings.ask_channel_ids))
    budget = f"{settings.daily_token_budget:,} tokens a day"
    if not settings.budget_lowered:
        budget += f" (the operator's limit, {operator_budget:,})"
    embed.add_field(name="/ask budget", value=budget)
    return embed


def permissions_help() -> discord.Embed:
    """Who can use the moderator commands, and how to open them to a role."""
    return discord.Embed(
        title="Who can use /schedule and /config", description=PERMISSIONS_HELP, colour=INFO_COLOUR
    )
