"""The one error handler: domain errors become friendly ephemeral messages, bugs get an id.

Slash commands reach it through the command tree's ``on_error`` (wired by the ``backend``
extension); buttons and modals call :func:`report_error` themselves, because discord.py only
logs what a :class:`~discord.ui.DynamicItem` raises and the learner would see nothing.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import discord
from discord import app_commands

from bot.errors import TutorError
from bot.exts._interactions import app_of, send
from bot.health import is_damaged_database
from bot.observe import new_error_id
from bot.ui import embeds
from bot.ui.text import one_line, truncate

log = logging.getLogger(__name__)


def _describe(interaction: discord.Interaction[Any]) -> str:
    """Where an error happened, for the log (never shown to learners)."""
    what: str
    if interaction.command is not None:
        what = f"/{interaction.command.qualified_name}"
    else:
        data: Any = interaction.data or {}
        what = f"custom_id={data.get('custom_id', '?')!r}"
    return (
        f"{interaction.type.name} {what} user={interaction.user.id} "
        f"guild={interaction.guild_id} channel={interaction.channel_id}"
    )


def _perms(names: list[str]) -> str:
    return ", ".join(name.replace("_", " ").replace("guild", "server") for name in names)


def message_for(error: BaseException) -> str | None:
    """The text a learner sees for ``error``; ``None`` means it is a bug (log it, apologise)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, TutorError):
        return str(error)
    if isinstance(error, app_commands.TransformerError):
        shown = truncate(one_line(str(error.value)), 60)
        return f"I could not use \u201c{shown}\u201d for that option. Pick one from the list."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only in a server."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_perms(error.missing_permissions)} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_perms(error.missing_permissions)} permission here to do that."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
        return (
            "This command has just changed and Discord has not caught up yet. Please try again "
            "in a minute."
        )
    return None


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the learner what went wrong (ephemerally) and log what they can't fix."""
    text = message_for(error)
    if text is None:
        original = cast(BaseException, getattr(error, "original", None) or error)
        # An interaction's unit of work (Turn) gave the error an id for its log line already.
        error_id = getattr(original, "error_id", None)
        if is_damaged_database(original):
            # The operator is told once, in one line (bot.observe), not by a traceback per
            # command; the learner gets the usual apology.
            if error_id is None:
                app_of(interaction).observer.database_failed(original)
            error_id = error_id or new_error_id()
            log.info("database damaged: error %s in %s", error_id, _describe(interaction))
        else:
            error_id = error_id or new_error_id()
            log.error(
                "unexpected error %s in %s",
                error_id,
                _describe(interaction),
                exc_info=(type(original), original, original.__traceback__),
            )
        reply = embeds.apology(error_id)
    else:
        log.debug("told %s: %s", _describe(interaction), text)
        reply = embeds.error_message(text)
    if interaction.type is discord.InteractionType.autocomplete:
        return  # an autocomplete can only answer with choices
    try:
        await send(interaction, content=reply, ephemeral=True)
    except discord.HTTPException as exc:
        # The interaction expired or Discord refused: nothing more can reach this learner.
        log.warning("could not report an error to %s: %s", _describe(interaction), exc)
