"""The port through which jobs reach Discord: a Protocol the Discord adapter implements.

The job runner never imports ``discord``. It calls a :class:`Publisher`, which the adapter
(``bot/exts/daily/``) implements over discord.py's REST client: it renders the messages (one
button per choice, custom ids carrying the post id), sends by channel id (a channel on another
shard is not "missing"), and translates Discord's answers into the errors below.

Error classes decide what the runner does:

- :class:`ChannelGoneError` (404: unknown channel/message) and :class:`ForbiddenError` (403:
  missing access/permission) are *permanent*: the schedule is paused and moderators are told
  (:meth:`Publisher.notify_paused`). Only these two pause a schedule.
- :class:`RetryableError` (5xx, 429, a network failure) is retried within the grace window,
  no sooner than ``retry_after`` seconds.
- Anything else is a bug: logged once with its traceback, and retried like a retryable error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.services.daily import PostToSend, Results
    from bot.services.schedules import ScheduleView


class PublishError(Exception):
    """Discord refused or failed a request."""

    permanent = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ChannelGoneError(PublishError):
    """404: the channel (or message) no longer exists."""

    permanent = True


class ForbiddenError(PublishError):
    """403: the bot may not view/send/embed in the channel (the text names what is missing)."""

    permanent = True


class DmClosedError(PublishError):
    """403 with code 50007: Discord will not deliver a direct message to this user.

    The only answer that switches a learner's reminders off (other 403s are retried later).
    """

    permanent = True


class RetryableError(PublishError):
    """5xx, 429 or a network failure: try again later (not before ``retry_after`` seconds)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Publisher(Protocol):
    """What the daily-quiz jobs need from Discord. Every method may raise a PublishError."""

    async def post_daily(self, post: PostToSend) -> int:
        """Send the quiz message to ``post.channel_id``; return its message id.

        Must pass ``post.nonce`` as the message nonce with ``enforce_nonce`` (discord.py ≥ 2.5
        does so whenever a nonce is given): a retry within minutes then returns the first
        message instead of posting a second. The buttons' custom ids must carry
        ``post.post_id`` so :meth:`find_daily` can recognise the message later. Mentions only
        ``post.ping_role_id`` (``allowed_mentions`` names that role alone).
        """
        ...

    async def find_daily(self, post: PostToSend) -> int | None:
        """The id of a message by this bot in the channel's recent history carrying this post.

        Used for a claim without message id older than Discord's nonce window: the leader
        re-sends only when this finds nothing.
        """
        ...

    async def close_daily(self, results: Results) -> None:
        """Edit the quiz message (``results.message_id``) so its buttons are disabled/closed.

        A deleted message is not an error (there is nothing to close).
        """
        ...

    async def post_results(self, results: Results) -> int:
        """Post the results in the post's channel with ``results.nonce``; the message id.

        The results: the right answer and why, how many answered, the share right, and the
        first five right.
        """
        ...

    async def notify_paused(
        self, schedule: ScheduleView, reason: str, notice_channel_id: int | None
    ) -> None:
        """Tell the moderators a schedule was paused (best effort: logged, never raises).

        In the notice channel if there is one, else by DM to ``schedule.created_by``.
        """
        ...


__all__ = [
    "ChannelGoneError",
    "DmClosedError",
    "ForbiddenError",
    "PublishError",
    "Publisher",
    "RetryableError",
]
