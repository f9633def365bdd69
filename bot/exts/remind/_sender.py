"""The Discord side of the reminder sweep's :class:`~bot.jobs.reminders.ReminderSender` port.

Discord's answers become the port's errors: 403 with code 50007 ("Cannot send messages to this
user": DMs closed, no shared server, or the bot blocked) is :class:`DmClosedError`, the only one
that switches reminders off; every other failure is retryable (other 403s included).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import aiohttp
import discord

from bot.exts.remind import _render as render
from bot.jobs.ports import DmClosedError, PublishError, RetryableError

if TYPE_CHECKING:
    from bot.bot import TutorBot
    from bot.services.reminders import ReminderToSend

T = TypeVar("T")
#: Discord's JSON error code for "Cannot send messages to this user".
CANNOT_DM = 50007


def _translate(exc: BaseException, what: str) -> PublishError:
    if isinstance(exc, discord.HTTPException):
        if exc.status == 403 and exc.code == CANNOT_DM:
            return DmClosedError(f"Discord cannot deliver DMs to this user ({what})", status=403)
        retry_after = None
        response = getattr(exc, "response", None)
        if response is not None:
            try:
                retry_after = float(response.headers.get("Retry-After") or 0) or None
            except ValueError:
                retry_after = None
        return RetryableError(f"Discord answered {exc.status} {exc.code} ({what})",
                              status=exc.status, retry_after=retry_after)
    return RetryableError(f"Discord could not be reached: {type(exc).__name__} ({what})")


async def _call(what: str, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
        raise _translate(exc, what) from exc


class DiscordReminderSender:
    """Opens DM channels and sends reminder DMs through Discord's REST API."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def open_dm(self, learner_id: int) -> int:
        """The DM channel with the learner (no gateway cache: the leader may lack the shard)."""
        data = await _call(f"opening a DM with {learner_id}",
                           lambda: self.bot.http.start_private_message(learner_id))
        return int(data["id"])

    async def send_reminder(self, channel_id: int, reminder: ReminderToSend) -> int:
        """Send the reminder with its nonce (a retry within minutes returns the first one)."""
        channel = self.bot.get_partial_messageable(channel_id)
        message = await _call(
            f"sending reminder {reminder.key}",
            lambda: channel.send(
                content=render.reminder_content(reminder),
                view=render.reminder_view(reminder),
                nonce=reminder.nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            ),
        )
        return message.id


__all__ = ["CANNOT_DM", "DiscordReminderSender"]
