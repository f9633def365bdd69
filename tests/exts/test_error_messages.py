"""What the one error handler tells a learner for each kind of failure."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.exts._errors import message_for, new_error_id


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("No such lesson."),
        NotAllowedError("Not yours."),
        InvalidInputError("Not a number."),
    ],
)
def test_domain_errors_are_shown_as_written(error: Exception) -> None:
    assert message_for(error) == str(error)


def test_a_domain_error_inside_a_command_is_unwrapped() -> None:
    command = app_commands.Command(name="x", description="x", callback=_noop)
    wrapped = app_commands.CommandInvokeError(command, NotFoundError("No such lesson."))
    assert message_for(wrapped) == "No such lesson."


async def _noop(interaction: discord.Interaction) -> None:
    """Nothing."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            app_commands.MissingPermissions(["manage_guild"]),
            "You need the manage server permission",
        ),
        (app_commands.BotMissingPermissions(["embed_links"]), "I need the embed links permission"),
        (app_commands.NoPrivateMessage(), "only in a server"),
        (app_commands.CheckFailure(), "can't use this command here"),
        (app_commands.CommandNotFound("quiz", []), "try again in a minute"),
    ],
)
def test_discord_failures_get_a_plain_sentence(error: Exception, expected: str) -> None:
    assert expected in (message_for(error) or "")


def test_bugs_have_no_message_and_get_short_distinct_ids() -> None:
    assert message_for(RuntimeError("boom")) is None
    command = app_commands.Command(name="x", description="x", callback=_noop)
    assert message_for(app_commands.CommandInvokeError(command, KeyError("k"))) is None
    ids = {new_error_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 8 for i in ids)
