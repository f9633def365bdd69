"""What every extension does with an interaction: who is asking, replying, deferring in time.

Every reply goes through :func:`send` or :func:`edit`, which disable mentions on the message
itself (on top of the bot-wide default), so nothing the bot says can ever ping anyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.sqlite_inline import lock_wait

if TYPE_CHECKING:
    from bot.app import AppContext
    from bot.bot import TutorBot

T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()
#: Work still running after this long is deferred, well inside Discord's 3-second window.
DEFER_AFTER_S = 1.5
#: How long an interaction waits for another process's SQLite write lock before giving up.
LOCK_WAIT_S = 10.0


@dataclass(frozen=True)
class Actor:
    """The person behind an interaction, and where they are."""

    user_id: int
    name: str
    guild_id: int | None  # None in DMs
    guild_name: str

    @classmethod
    def of(cls, interaction: discord.Interaction[Any]) -> Actor:
        """The actor of ``interaction``."""
        user = interaction.user
        guild = interaction.guild
        return cls(
            user_id=user.id,
            name=user.display_name,
            guild_id=interaction.guild_id,
            guild_name=guild.name if guild is not None else "",
        )


def app_of(interaction: discord.Interaction[Any]) -> AppContext:
    """The application context of the bot that received ``interaction``."""
    return cast("TutorBot", interaction.client).app


async def ensure_learner(session: AsyncSession, app: AppContext, actor: Actor) -> None:
    """Make the actor a learner (created on first contact; guild membership recorded)."""
    await app.services.learners.ensure(
        session,
        actor.user_id,
        actor.name,
        guild_id=actor.guild_id,
        guild_name=actor.guild_name,
    )


async def within_deadline(
    interaction: discord.Interaction[Any],
    work: Awaitable[T],
    *,
    ephemeral: bool = False,
    update: bool = False,
) -> T:
    """Await ``work``; if it is still running after :data:`DEFER_AFTER_S`, defer first.

    ``update=True`` defers as "I will edit the message clicked" (component interactions),
    otherwise as "thinking" before a new message (``ephemeral`` decides who sees it). Usually
    the work is a short database transaction and no deferral happens; under load the learner
    still gets an answer instead of "The application did not respond".
    """
    deferring = asyncio.Lock()

    async def defer() -> None:
        async with deferring:  # the timer below and the database's lock wait may both ask
            if interaction.response.is_done():
                return
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=ephemeral, thinking=True)

    # If another process holds SQLite's write lock, the database waits off the loop until
    # LOCK_WAIT_S and calls ``defer`` before its first retry (bot.db.sqlite_inline).
    with lock_wait(LOCK_WAIT_S, on_wait=defer):
        task = asyncio.ensure_future(work)  # the task inherits the lock-wait policy
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_S)
    if not done and not interaction.response.is_done():
        try:
            await defer()
        except discord.HTTPException:
            # The interaction is gone; what the work writes is still valid, so let it finish.
            await asyncio.wait({task})
            raise
    return await task


def _message_kwargs(
    content: str | None,
    embeds: Sequence[discord.Embed],
    view: discord.ui.View | None,
    file: discord.File | None,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "content": content,
        "embeds": list(embeds),
        "allowed_mentions": NO_MENTIONS,
    }
    if view is not None:
        kwargs["view"] = view
    if file is not None:
        kwargs["file"] = file
    return kwargs


async def send(
    interaction: discord.Interaction[Any],
    *,
    content: str | None = None,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
    ephemeral: bool = False,
) -> int | None:
    """A new message answering ``interaction`` (a followup if it was already answered).

    Returns the new message's id (``None`` if Discord did not say).
    """
    kwargs = _message_kwargs(content, embeds, view, file)
    if interaction.response.is_done():
        message = await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
        return message.id
    callback = await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
    return callback.message_id


async def edit(
    interaction: discord.Interaction[Any],
    *,
    content: str | None = None,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
) -> None:
    """Replace the message whose button (or modal) ``interaction`` came from.

    ``view=None`` removes the buttons; ``content=None`` removes any text above the embeds.
    """
    if interaction.response.is_done():
        await interaction.edit_original_response(
            content=content, embeds=list(embeds), view=view, allowed_mentions=NO_MENTIONS
        )
    else:
        await interaction.response.edit_message(
            content=content, embeds=list(embeds), view=view, allowed_mentions=NO_MENTIONS
        )
