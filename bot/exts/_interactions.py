"""What every extension does with an interaction: who is asking, replying, deferring in time.

Every handler runs in a :class:`Turn`: the one unit of work per interaction (admission, the
course runtime read once, a transaction only around service calls, timing and counting, and
the interaction's one log line and its metrics through ``app.observer``).

Every reply goes through :func:`send` or :func:`edit`, which disable mentions on the message
itself (on top of the bot-wide default), so nothing the bot says can ever ping anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord

from bot import runtime
from bot.db.sqlite_inline import lock_wait
from bot.errors import DatabaseBusyError, TutorError
from bot.lifecycle import ShuttingDownError
from bot.observe import FAILED, database_error_kind, new_error_id
from bot.runtime import Unit, unit_of_work
from bot.ui import custom_ids as ids

if TYPE_CHECKING:
    from bot.app import AppContext
    from bot.bot import TutorBot
    from bot.content.model import Course
    from bot.runtime import Services
    from bot.services.answer_batch import AnswerBatcher

T = TypeVar("T")
log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
#: Work still running after this long is deferred, well inside Discord's 3-second window.
DEFER_AFTER_S = 1.5
#: How long an interaction waits for another process's SQLite write lock before giving up.
LOCK_WAIT_S = 10.0


class Actor(runtime.Actor):
    """The person behind an interaction, and where they are (a :class:`bot.runtime.Actor`)."""

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


def interaction_name(interaction: discord.Interaction[Any]) -> str:
    """What an interaction is, for counting: ``/quiz``, ``button:pg``, ``modal:qv``."""
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    kind = "modal" if interaction.type is discord.InteractionType.modal_submit else "button"
    if not ids.has_handler(custom_id):
        return f"{kind}:unknown"  # a stale or forged id: never a metric label of its own
    parts = custom_id.split(":")  # ``version:kind:...`` (bot.ui.custom_ids)
    return f"{kind}:{(parts[1] if len(parts) > 1 else parts[0])[:16]}"


def outcome_of(error: BaseException | None) -> str:
    """How an interaction ended, for its log line and metrics.

    ``ok``; ``refused`` (a friendly "no": bad input, not allowed, rate limited); ``busy``
    (another process held the database); ``timeout``; ``cancelled`` (a shutdown could not wait
    for it); ``db_error`` (the database failed); ``error`` (a bug: the learner got an error id).
    """
    if error is None:
        return "ok"
    if isinstance(error, DatabaseBusyError):
        return "busy"
    if isinstance(error, TutorError):
        return "refused"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    if isinstance(error, TimeoutError):
        return "timeout"
    if database_error_kind(error) is not None:
        return "db_error"
    return "error"


@dataclass
class InteractionStats:
    """How many interactions of each kind ran, failed, and how long they took in total.

    The one place every interaction is timed and counted (:class:`Turn`); the metrics
    exporter reads these counters.
    """

    started: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, seconds: float, *, failed: bool) -> None:
        """Count one finished interaction of kind ``name``."""
        self.started[name] += 1
        if failed:
            self.failed[name] += 1
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


#: Counters of every interaction this process handled (all bots of the process share them).
STATS = InteractionStats()


class Turn:
    """One interaction, from its start to its last reply: the unit every handler runs in.

    ``async with Turn(interaction) as turn:`` wraps a handler's whole body. On entry it admits
    the interaction (a stopping app refuses it with a short "restarting" reply), reads the
    course runtime once (:attr:`runtime`) and starts the clock; on exit it counts and times
    the interaction and writes its one log line and its metrics (``app.observer``): command,
    guild, learner (an HMAC), latency, outcome (:func:`outcome_of`), what the handler noted
    (:meth:`note`: /ask's engine and fallback reason) and, for a bug, the error id the learner
    is shown. Inside, :meth:`run` is the one way to call services: a transaction around the
    call only, under the deadline, never across an await on Discord or Anthropic.
    """

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self.app = app_of(interaction)
        self.runtime = self.app.runtime  # read once: a course swap mid-interaction is not seen
        self.actor = Actor.of(interaction)
        self.name = interaction_name(interaction)
        self.details: dict[str, Any] = {}
        self._started = 0.0
        #: What to tell the learner after the handler's reply (see :attr:`bot.runtime.Unit.notices`).
        self.notices: list[str] = []

    @property
    def services(self) -> Services:
        """The services of the runtime this interaction started with."""
        return self.runtime.services

    @property
    def course(self) -> Course:
        """The course of the runtime this interaction started with."""
        return self.runtime.course

    def note(self, **details: Any) -> None:
        """Add fields to this interaction's log line (and metrics).

        /ask notes ``engine``, ``fallback`` and ``tokens_input``/``tokens_output``/
        ``tokens_cache_read``/``tokens_cache_write``; the observer counts answers by engine
        and fallback reason and the tokens spent.
        """
        self.details.update(details)

    async def __aenter__(self) -> Turn:
        # Hooks that see every interaction go here and in __aexit__ (admission for a graceful
        # shutdown, the log line, metrics): nowhere else.
        try:
            self.app.admission.enter()  # raises ShuttingDownError (a friendly reply) if stopping
        except ShuttingDownError:
            self._observe(0.0, "restarting", None)
            raise
        self._started = time.perf_counter()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        try:
            if exc_type is None and self.notices:
                await self._tell_notices()
        finally:
            elapsed = time.perf_counter() - self._started
            self.app.admission.leave()
            STATS.record(self.name, elapsed, failed=exc_type is not None)
            await self._finish(elapsed, error)

    async def _tell_notices(self) -> None:
        """Show pending notices privately after the reply, then mark them shown.

        Marked only once shown: a notice that could not be sent comes with the next interaction.
        """
        notices, self.notices = self.notices, []
        try:
            await send(self.interaction, content="\n\n".join(notices)[:2000], ephemeral=True)
        except discord.HTTPException:
            log.warning("could not show %d notice(s) to learner %s", len(notices),
                        self.actor.user_id)
            return
        async with self.app.db.sessions.begin() as session:
            await self.runtime.services.reminders.notice_shown(session, self.actor.user_id)

    async def _finish(self, elapsed: float, error: BaseException | None) -> None:
        """The interaction's log line and metrics (an error gets the id the learner sees)."""
        outcome = outcome_of(error)
        error_id = None
        if error is not None and outcome in FAILED:
            # The error handler shows the learner this same id (bot.exts._errors).
            error_id = getattr(error, "error_id", None) or new_error_id()
            with contextlib.suppress(AttributeError):
                error.error_id = error_id  # type: ignore[attr-defined]
            if outcome == "db_error":
                self.app.observer.database_failed(error)
        elif isinstance(error, DatabaseBusyError):
            self.app.observer.database_failed(error)
        if outcome != "cancelled":
            # The database failing: the line goes out without the learner.
            with contextlib.suppress(Exception):
                await self.app.observer.load_learner_key(self.app.db)
        self._observe(elapsed, outcome, error_id)

    def _observe(self, seconds: float, outcome: str, error_id: str | None) -> None:
        self.app.observer.interaction(
            command=self.name,
            guild_id=self.actor.guild_id,
            user_id=self.actor.user_id,
            seconds=seconds,
            outcome=outcome,
            error_id=error_id,
            details=self.details,
        )

    async def run(
        self,
        call: Callable[[Unit], Awaitable[T]],
        *,
        ephemeral: bool = False,
        update: bool = False,
        ensure_learner: bool = True,
    ) -> T:
        """Run ``call`` in one transaction (the actor ensured as a learner first).

        The deadline applies as :func:`within_deadline` says: slow work defers the interaction
        (``update=True`` for a button whose message will be edited; otherwise "thinking",
        private when ``ephemeral``).
        """

        async def work() -> T:
            async with unit_of_work(
                self.app.db, self.runtime, self.actor, ensure_learner=ensure_learner
            ) as unit:
                result = await call(unit)
            self.notices.extend(n for n in unit.notices if n not in self.notices)
            return result

        return await within_deadline(self.interaction, work(), ephemeral=ephemeral, update=update)


    async def batched(
        self,
        call: Callable[[AnswerBatcher], Awaitable[T]],
        *,
        ephemeral: bool = False,
        update: bool = False,
    ) -> T:
        """Hand a quiz answer to the process's answer batcher; return once it is durable.

        The stated exception to one transaction per interaction (:mod:`bot.services.
        answer_batch`): concurrent answers from many interactions share one group commit of
        multi-row statements, and each is acknowledged only after that commit. The deadline
        applies as in :meth:`run`. Pass the services of :attr:`services` (this interaction's
        runtime) into the batcher, so the answer is graded against the course it was shown from.
        """
        return await within_deadline(
            self.interaction, call(self.app.answers), ephemeral=ephemeral, update=update
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
