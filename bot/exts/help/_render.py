"""How /help looks on Discord: what the bot can do, for each role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.services.roles import Role
from bot.ui import embeds


@dataclass(frozen=True)
class CommandHelp:
    """One command as /help lists it."""

    usage: str  # e.g. ``/quiz [lesson] [questions]``
    description: str


def help_embed(
    commands: Sequence[CommandHelp],
    role: Role,
    moderator_commands: Sequence[CommandHelp] = (),
    maintainer_commands: Sequence[CommandHelp] = (),
) -> discord.Embed:
    """What the bot can do, for a learner, a moderator or a maintainer.

    Learners see the learner commands; moderators also see the moderator commands (shown to
    them by Discord once an admin opens them to their role); maintainers see everything.
    """
    embed = embeds.embed(
        title="What I can do",
        description="I teach the course *Generative AI fundamentals*: short lessons, quizzes "
        "with instant explanations, and your progress. Quizzes and your settings are private; "
        "I never ping anyone.",
    )
    for command in commands:
        embeds.field(embed, command.usage, command.description, inline=False)
    if role in (Role.MODERATOR, Role.MAINTAINER):
        embeds.field(
            embed,
            "For moderators",
            "Daily quizzes in your channels, at your local time, and this server's settings "
            "(server only; Manage Server or the moderator role set with `/config`). Admins "
            "open these commands to a role under Server Settings \u2192 Integrations.",
            inline=False,
        )
        for command in moderator_commands:
            embeds.field(embed, command.usage, command.description, inline=False)
    if role is Role.MAINTAINER:
        embeds.field(
            embed,
            "For maintainers",
            "The course lives in the bot's `lessons/` folder (check it with `tutorbot lessons "
            "check`); slash commands sync by themselves when the bot starts and they have "
            "changed. Set the maintainer role with `/config maintainer-role`.",
            inline=False,
        )
        for command in maintainer_commands:
            embeds.field(embed, command.usage, command.description, inline=False)
    return embeds.footer(embed, f"Shown for a {role.value}. Start with /lesson.")
