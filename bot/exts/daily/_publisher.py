"""The Discord side of the job runner's :class:`~bot.jobs.ports.Publisher` port.

Everything goes through discord.py's REST client by channel id (``get_partial_messageable``),
never through the gateway cache: the leader process may not hold the shard of the channel it
posts in, and a channel missing from its cache is not a missing channel.

Discord's answers become the port's errors: 404 → :class:`ChannelGoneError`, 403 →
:class:`ForbiddenError` (both pause the schedule), 429/5xx/network → :class:`RetryableError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import aiohttp
import discord

from bot.exts.daily import _render as render
from bot.jobs.ports import ChannelGoneError, ForbiddenError, PublishError, RetryableError
from bot.ui import custom_ids as ids
from bot.ui.text import truncate

if TYPE_CHECKING:
    from bot.bot import TutorBot
    from bot.services.daily import PostToSend, Results
    from bot.services.schedules import ScheduleView

log = logging.getLogger(__name__)

T = TypeVar("T")
#: How far back the leader looks for a post it may have made before a crash.
HISTORY_LIMIT = 50
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440


def _translate(exc: BaseException, what: str) -> PublishError:
    if isinstance(exc, discord.NotFound):
        return ChannelGoneError(
            f"Discord says the channel (or message) no longer exists ({what}).", status=404
        )
    if isinstance(exc, discord.Forbidden):
        return ForbiddenError(
            "I am not allowed to post there any more: I need View Channel, Send Messages and "
            f"Embed Links in that channel ({what}).",
            status=403,
        )
    if isinstance(exc, discord.HTTPException):
        status = exc.status
        retry_after = None
        response = getattr(exc, "response", None)
        if response is not None:
            header = response.headers.get("Retry-After")
            try:
                retry_after = float(header) if header else None
            except ValueError:
                retry_after = None
        if status == 429 or status >= 500:
            return RetryableError(
                f"Discord answered {status} ({what})", status=status, retry_after=retry_after
            )
        return PublishError(f"Discord refused the request: {status} {exc.text[:200]} ({what})",
                            status=status)
    return RetryableError(f"Discord could not be reached: {type(exc).__name__} ({what})")


async def _call(what: str, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
        raise _translate(exc, what) from exc


def carries_post(payload: dict[str, Any], post_id: int) -> bool:
    """Whether a message payload has a button of daily post ``post_id``."""
    stack = list(payload.get("components") or [])
    while stack:
        component = stack.pop()
        stack.extend(component.get("components") or [])
        key = ids.decode(str(component.get("custom_id") or ""))
        if isinstance(key, ids.DailyChoice | ids.DailyClosed) and key.post_id == post_id:
            return True
    return False


class DiscordPublisher:
    """Posts, finds, closes and reports daily quizzes through Discord's REST API."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(channel_id)

    async def post_daily(self, post: PostToSend) -> int:
        """Send the quiz with the claim's nonce (Discord returns the first message on a retry)."""
        lesson = self.bot.app.course.lesson(post.question.lesson_id)
        channel = self._channel(post.channel_id)
        message = await _call(
            f"posting daily quiz {post.post_id} in channel {post.channel_id}",
            lambda: channel.send(
                content=render.post_content(post),
                embed=render.post_embed(post, lesson),
                view=render.post_view(post),
                nonce=post.nonce,  # discord.py adds enforce_nonce
                allowed_mentions=render.post_mentions(post),
            ),
        )
        if post.use_thread:
            await self._open_thread(post, message.id)
        return message.id

    async def _open_thread(self, post: PostToSend, message_id: int) -> None:
        """A thread under the quiz for discussion; failing that is no reason to post again."""
        name = truncate(f"Daily quiz {post.local_date:%Y-%m-%d}: talk about it here", 100)
        try:
            await self.bot.http.start_thread_with_message(
                post.channel_id, message_id, name=name,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as exc:
            # 160004: the thread exists already (a retry that got the first message back).
            if exc.code != 160004:
                log.warning("daily quiz %s: could not open a thread: %s", post.post_id, exc)

    async def find_daily(self, post: PostToSend) -> int | None:
        """The id of this bot's message in the channel's recent history carrying the post."""
        me = self.bot.user
        payloads = await _call(
            f"reading channel {post.channel_id} for daily quiz {post.post_id}",
            lambda: self.bot.http.logs_from(post.channel_id, HISTORY_LIMIT),
        )
        for payload in payloads:
            author = payload.get("author") or {}
            if me is not None and str(author.get("id")) != str(me.id):
                continue
            if carries_post(dict(payload), post.post_id):
                return int(payload["id"])
        return None

    async def close_daily(self, results: Results) -> None:
        """Disable the quiz's buttons by editing the channel message (tokens expire)."""
        if not results.message_id:
            return
        message = self._channel(results.channel_id).get_partial_message(results.message_id)
        try:
            await _call(
                f"closing daily quiz {results.post_id}",
                lambda: message.edit(view=render.closed_view(results),
                                     allowed_mentions=render.NO_MENTIONS),
            )
        except ChannelGoneError:
            log.info("daily quiz %s: its message is gone; nothing to close", results.post_id)

    async def post_results(self, results: Results) -> int:
        """The results, as a reply to the quiz (plain message if the quiz was deleted)."""
        lesson = self.bot.app.course.lesson(results.question.lesson_id)
        reference = None
        if results.message_id:
            reference = discord.MessageReference(
                message_id=results.message_id, channel_id=results.channel_id,
                fail_if_not_exists=False,
            )
        channel = self._channel(results.channel_id)
        message = await _call(
            f"posting the results of daily quiz {results.post_id}",
            lambda: channel.send(
                embed=render.results_embed(results, lesson),
                view=render.report_view(results.question.id),
                nonce=results.nonce,
                reference=reference,  # type: ignore[arg-type]
                allowed_mentions=render.NO_MENTIONS,
            ),
        )
        return message.id

    async def notify_paused(
        self, schedule: ScheduleView, reason: str, notice_channel_id: int | None
    ) -> None:
        """Tell moderators in the notice channel, else the schedule's creator by DM. Never raises."""
        text = render.paused_notice(schedule, reason)
        if notice_channel_id and notice_channel_id != schedule.channel_id:
            try:
                await self._channel(notice_channel_id).send(
                    content=text, allowed_mentions=render.NO_MENTIONS
                )
                return
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("could not tell the notice channel %s about daily quiz %s: %s",
                            notice_channel_id, schedule.id, exc)
        try:
            dm = await self.bot.http.start_private_message(schedule.created_by)
            await self._channel(int(dm["id"])).send(
                content=text, allowed_mentions=render.NO_MENTIONS
            )
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("could not tell anyone that daily quiz %s was paused: %s",
                        schedule.id, exc)


__all__ = ["DiscordPublisher", "carries_post"]
