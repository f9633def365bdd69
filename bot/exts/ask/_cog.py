"""/ask: a question about the course, answered in public as it is written, with its sources.

One question goes like this:

1. The tutor (retriever, local model, Anthropic client) is loaded when the extension loads, so
   the first question does not wait for it; if it is still loading (or failed to load) the
   learner is told privately.
2. The command runs in a :class:`~bot.exts._interactions.Turn` (admitted, timed and counted
   with every other interaction); the server's /ask rules are read in its one short
   transaction. Then the tutor admits the question, once: a question that is too long, or
   asked too fast, gets a private reply and nothing else happens (nothing is deferred, nothing
   is logged). No transaction is open across the answer: the tutor writes its log row in its
   own short one once Claude is done.
3. The reply is deferred ("thinking"), publicly: others learn from answers too.
4. The answer streams into the reply, at most one edit a second (:mod:`._throttle`), then the
   final answer replaces it: Claude's, or the labelled offline answer, with its sources and
   👍/👎 for the asker. A long answer continues in follow-up messages (:mod:`._render`).
5. In a server text channel a public thread is started from the answer: ``/ask`` inside it
   continues the conversation, the tutor reading the thread's earlier turns. Discord gives a
   thread started from a message the message's id, so the first answer is logged with that
   id as its ``thread_id`` before the thread exists, and a follow-up in the thread finds it.
   Without the permission to start threads (or in a DM) the answer simply stands alone.

When no answer can be given after the reply was deferred (Claude required by ``ask.engine =
"llm"`` and unavailable) the reply says why. A bug leaves a short public note in the reply and
goes to the one error handler, which logs it and tells the asker privately with an error id. A
reply deleted while the answer is written (by a moderator) ends the command quietly.

Nothing here needs a privileged intent: the conversation lives in the ask log, not in
messages the bot would have to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowedError, TutorError
from bot.exts._interactions import DEFER_AFTER_S, Turn, edit, send
from bot.exts.ask import _render as render
from bot.exts.ask._throttle import ThrottledEdits
from bot.services.tutor import AskRequest, AskResult, AskUpdate
from bot.ui.embeds import error_message

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from bot.bot import TutorBot
    from bot.services.tutor import Admitted, TutorService

log = logging.getLogger(__name__)

#: What Discord lets a learner type. The real limit is ``ask.max_question_chars`` (at most
#: 4,000), checked by the tutor so that a long question gets a friendly reply saying the limit.
QUESTION_OPTION_MAX = 4000

STILL_LOADING = "I'm still getting ready (loading the course notes). Please ask again in a minute."
UNAVAILABLE = (
    "Sorry, I can't answer questions right now: my course notes could not be loaded (the "
    "error is in my log for the people running me). Please try again later."
)
NOT_ANSWERED = "\U0001f615 Sorry, I could not answer this question."
IN_THREAD = "Follow up with /ask in this thread."
THREAD_BELOW = "Follow up with /ask in the thread under this answer."
THREAD_REASON = "Follow-up questions to an /ask answer"


@dataclass(frozen=True)
class Place:
    """Where a question is asked, as the tutor and the thread logic need it."""

    channel_id: int | None  # the channel; a thread's parent for a question in a thread
    thread_id: int | None  # the thread the question is asked in
    can_start_thread: bool  # a server text channel where the bot may start public threads

    @classmethod
    def of(cls, interaction: discord.Interaction[Any]) -> Place:
        """Where ``interaction`` happens."""
        channel = interaction.channel
        if isinstance(channel, discord.Thread):
            return cls(channel.parent_id, channel.id, can_start_thread=False)
        can_start = (
            isinstance(channel, discord.TextChannel)
            and interaction.app_permissions.create_public_threads
        )
        return cls(interaction.channel_id, None, can_start_thread=can_start)


class Ask(commands.Cog):
    """Questions to the tutor."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self._loading: asyncio.Task[TutorService | None] | None = None

    async def cog_load(self) -> None:
        """Start loading the tutor now (in the background), so the first /ask is fast."""
        self._loading = asyncio.create_task(self._load_tutor(), name="ask: load the tutor")

    async def cog_unload(self) -> None:
        """Stop loading the tutor if it is still at it."""
        if self._loading is not None:
            self._loading.cancel()

    async def _load_tutor(self) -> TutorService | None:
        try:
            tutor = await self.bot.app.tutor()
        except Exception:
            log.exception("could not load the tutor; /ask apologises until it loads")
            return None
        engine = "Claude, with offline answers" if tutor.has_llm else "offline answers only"
        log.info("the tutor is ready: %s", engine)
        return tutor

    async def ready_tutor(self) -> TutorService:
        """The tutor, once loaded; a :class:`TutorError` when it is not ready in a moment.

        A failed load is tried again by the next question, and a load still running keeps
        going in the background while the learner is told to come back.
        """
        task = self._loading
        if task is None or (task.done() and (task.cancelled() or task.result() is None)):
            task = self._loading = asyncio.create_task(
                self._load_tutor(), name="ask: load the tutor"
            )
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_S)
        if not done:
            raise TutorError(STILL_LOADING)
        tutor = None if task.cancelled() else task.result()
        if tutor is None:
            raise TutorError(UNAVAILABLE)
        return tutor

    async def _server_rules(self, turn: Turn, place: Place) -> int | None:
        """The server's /ask rules (``/config``), read in the interaction's unit of work.

        A private refusal outside its /ask channels; otherwise its daily token budget (``None``
        in a DM).
        """
        guild_id = turn.actor.guild_id
        if guild_id is None:
            return None
        rules = await turn.run(
            lambda unit: unit.services.guild_config.get(unit.session, guild_id),
            ensure_learner=False,  # the tutor records the learner with the answer
        )
        if not rules.ask_allowed_in(place.thread_id or place.channel_id, place.channel_id):
            raise NotAllowedError(render.ask_elsewhere(sorted(rules.ask_channel_ids)))
        return rules.daily_token_budget

    @app_commands.command(name="ask")
    @app_commands.describe(question="Your question about the course, e.g. What is a token?")
    async def ask(
        self,
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, QUESTION_OPTION_MAX],
    ) -> None:
        """Ask the tutor about the course; the answer is public, with its sources."""
        async with Turn(interaction) as turn:
            place = Place.of(interaction)
            budget = await self._server_rules(turn, place)
            tutor = await self.ready_tutor()
            actor = turn.actor
            # Admitted once, before anything else: a TutorError here becomes a private reply.
            admitted = tutor.admit(AskRequest(
                learner_id=actor.user_id, question=question, display_name=actor.name,
                guild_id=actor.guild_id, channel_id=place.channel_id,
                thread_id=place.thread_id, token_budget=budget,
            ))
            await self._reply(turn, tutor, admitted, place)

    async def _reply(
        self, turn: Turn, tutor: TutorService, admitted: Admitted, place: Place
    ) -> None:
        """Defer publicly, stream the answer into the reply, then start its thread."""
        interaction = turn.interaction
        cleaned = admitted.request.question
        heading = render.question_line(cleaned)
        callback = None
        if not interaction.response.is_done():  # a slow rules read may have deferred already
            callback = await interaction.response.defer(thinking=True)
        starts_thread = False
        try:
            if place.can_start_thread:
                reply_id = callback.message_id if callback is not None else None
                if reply_id is None:
                    reply_id = (await interaction.original_response()).id
                # The thread started from the reply will have the reply's id (module doc).
                admitted, starts_thread = admitted.in_thread(reply_id), True
            updates = tutor.stream(turn.app.db.sessions, admitted)
            follow_up = IN_THREAD if place.thread_id else THREAD_BELOW if starts_thread else None
            shown = await self._answer(
                turn, updates, heading, admitted.request.learner_id, follow_up
            )
        except TutorError as exc:
            # Only "the online tutor is unavailable" (engine ``llm``) comes after admission;
            # the question was public, so is the reason it got no answer.
            with contextlib.suppress(discord.NotFound):  # the reply was deleted meanwhile
                await edit(interaction, content=f"{heading}\n{error_message(str(exc))}")
            return
        except Exception:
            # Leave no half answer or endless "thinking"; the error handler tells the asker.
            with contextlib.suppress(discord.HTTPException):
                await edit(interaction, content=f"{heading}\n{NOT_ANSWERED}")
            raise
        if starts_thread and shown:
            await self._start_thread(interaction, admitted.request.thread_id, cleaned)

    async def _answer(
        self,
        turn: Turn,
        updates: AsyncGenerator[AskUpdate, None],
        heading: str,
        asker_id: int,
        follow_up: str | None,
    ) -> bool:
        """Stream the answer into the reply, then show the final answer (in pages if long).

        The engine, fallback reason and tokens go into the interaction's log line and metrics.
        ``False`` when the reply was deleted (by a moderator, say) before the answer was shown.
        """
        interaction = turn.interaction
        shown: list[str | None] = [None]

        async def show_partial(text: str) -> None:
            embed = render.writing(text)
            if embed.description == shown[0]:
                return  # past one page nothing visible changes until the final answer
            shown[0] = embed.description
            await edit(interaction, content=heading, embeds=[embed])

        edits = ThrottledEdits(show_partial)
        try:
            result = await _final_result(updates, edits)
            turn.note(**answer_details(result))
            view = render.rating_buttons(asker_id, result.ask_log_id)
            pages = render.answer(result, follow_up=follow_up, rated=view is not None)
            first_view = view if len(pages) == 1 else None
            try:
                await edits.finish(
                    lambda: edit(interaction, content=heading, embeds=[pages[0]], view=first_view)
                )
            except discord.NotFound:
                log.info("the reply to /ask %s was deleted before its answer", result.ask_log_id)
                return False
            for number, page in enumerate(pages[1:], start=2):
                await send(interaction, embeds=[page], view=view if number == len(pages) else None)
        finally:
            await edits.stop()
        return True

    async def _start_thread(
        self, interaction: discord.Interaction[Any], reply_id: int | None, question: str
    ) -> None:
        """Start the follow-up thread from the answer; if Discord refuses, the answer stands."""
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel) or reply_id is None:
            return
        try:
            await channel.get_partial_message(reply_id).create_thread(
                name=render.thread_name(question),
                auto_archive_duration=1440,
                reason=THREAD_REASON,
            )
        except discord.HTTPException as exc:
            log.warning("could not start a follow-up thread in channel %s: %s", channel.id, exc)


def answer_details(result: AskResult) -> dict[str, Any]:
    """What an answer adds to the interaction's log line and metrics (no per-guild label)."""
    usage = result.usage
    return {
        "engine": result.engine,
        "fallback": result.fallback_reason,
        "tokens_input": usage.input_tokens,
        "tokens_output": usage.output_tokens,
        "tokens_cache_read": usage.cache_read_tokens,
        "tokens_cache_write": usage.cache_write_tokens,
    }


async def _final_result(
    updates: AsyncGenerator[AskUpdate, None], edits: ThrottledEdits
) -> AskResult:
    """Pass each partial text to ``edits``; the final answer."""
    async with contextlib.aclosing(updates):
        async for update in updates:
            if isinstance(update, AskResult):
                return update
            edits.update(update.text)
    raise RuntimeError("the tutor stopped without giving an answer")
