"""Generic embed helpers: colours, embeds cut to Discord's limits, notices and error replies.

Each feature's own embeds live in its extension (``bot/exts/<feature>/_render.py``); what they
share is here.
"""

from __future__ import annotations

import discord

from bot.ui.limits import (
    CONTENT_MAX,
    EMBED_AUTHOR_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
)
from bot.ui.text import truncate

COURSE_COLOUR = discord.Colour(0x5865F2)
RIGHT_COLOUR = discord.Colour(0x57F287)
WRONG_COLOUR = discord.Colour(0xED4245)
INFO_COLOUR = discord.Colour(0x99AAB5)
#: Choice letters, in the order a question shows its choices.
LETTERS = "ABCDEFGHIJ"


def embed(
    *, title: str = "", description: str = "", colour: discord.Colour = COURSE_COLOUR
) -> discord.Embed:
    """An embed whose title and description are cut to Discord's limits."""
    return discord.Embed(
        title=truncate(title, EMBED_TITLE_MAX) or None,
        description=truncate(description, EMBED_DESCRIPTION_MAX) or None,
        colour=colour,
    )


def footer(embed: discord.Embed, text: str) -> discord.Embed:
    """Set ``embed``'s footer, cut to Discord's limit."""
    return embed.set_footer(text=truncate(text, EMBED_FOOTER_MAX))


def author(embed: discord.Embed, text: str) -> discord.Embed:
    """Set ``embed``'s author line, cut to Discord's limit."""
    return embed.set_author(name=truncate(text, EMBED_AUTHOR_MAX))


def field(embed: discord.Embed, name: str, value: str, *, inline: bool = True) -> None:
    """Add a field cut to Discord's limits; past the last allowed field, nothing is added."""
    if len(embed.fields) >= EMBED_FIELDS_MAX:
        return
    embed.add_field(
        name=truncate(name, EMBED_FIELD_NAME_MAX),
        value=truncate(value, EMBED_FIELD_VALUE_MAX) or "\u2013",
        inline=inline,
    )


def notice(text: str) -> str:
    """Message content within Discord's limit (for short notes above an embed)."""
    return truncate(text, CONTENT_MAX)


def error_message(text: str) -> str:
    """A domain error as the learner sees it."""
    return notice(f"\u26a0\ufe0f {text}")


def apology(error_id: str) -> str:
    """What a learner sees when something unexpected broke."""
    return (
        "\U0001f615 Sorry, something went wrong on my side. It has been logged with error id "
        f"`{error_id}`; please try again in a moment."
    )
