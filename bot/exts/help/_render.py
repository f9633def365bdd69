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


def help_embed(commands: Sequence[CommandHelp], role: Role) -> discord.Embed:
    """What the bot can do, for a learner, a moderator or a maintainer."""
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
            "No moderator commands yet. Everything above works for you too: my replies never "
            "ping anyone, quizzes are visible only to the learner taking them, and a button "
            "only works for the person it belongs to.",
            inline=False,
        )
    if role is Role.MAINTAINER:
        embeds.field(
            embed,
            "For maintainers",
            "No maintainer commands yet. The course lives in the bot's `lessons/` folder "
            "(check it with `tutorbot lessons check`); slash commands sync by themselves when "
            "the bot starts and they have changed.",
            inline=False,
        )
    return embeds.footer(embed, f"Shown for a {role.value}. Start with /lesson.")
