"""The /ask use case: answer a learner's question from the course, with Claude or offline.

One question goes through:

1. admission (:meth:`TutorService.admit`, once, before any slow work): the length limit and
   the per-learner rate limit (kept in memory, per process); it turns an :class:`AskRequest`
   (who asks what, where) into an :class:`Admitted` question, the only thing
   :meth:`TutorService.stream` answers;
2. retrieval of the course passages closest to the question;
3. Claude, when an API key is set and the guild's daily token budget (the sum of today's
   ``ask_log`` tokens, so every process shares it) is not spent — streamed, under one deadline
   ``ask.timeout_s`` that covers retries and leaves a moment for the fallback;
4. otherwise, or when Claude fails in any way, the local answer built from the passages, which
   replaces any partial text and is labelled as an offline answer;
5. one ``ask_log`` row with the engine, the fallback reason, tokens, latency and citations.

No database session is held while waiting for Claude: budget and history are read in one short
unit of work before the call, and the log row written in another after it.

``engine`` ``"llm"`` means Claude only: a failure is reported (:class:`TutorUnavailableError`)
instead of answered offline. ``"local"`` never calls Claude.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import utcnow
from bot.db.models.ask import AskLog
from bot.errors import InvalidInputError, RateLimitedError, TutorError
from bot.qa.llm import (
    FallbackReason,
    LlmAnswer,
    LlmFailure,
    Turn,
    TutorLLM,
    Usage,
    build_request,
    make_client,
    system_prompt,
)
from bot.qa.local import answer_locally
from bot.services.learners import LearnerService

if TYPE_CHECKING:
    import anthropic

    from bot.content.model import Course
    from bot.qa.retrieval import Passage, Retriever
    from bot.settings import Settings

log = logging.getLogger(__name__)

Engine = Literal["auto", "llm", "local"]

#: Shown above every answer of the local model, so no one mistakes it for the tutor's.
OFFLINE_LABEL = "📴 *Offline answer, assembled from the course notes by the local model.*"
#: Shown above a Claude answer that cites no course passage.
UNCITED_LABEL = "⚠️ *Not from the course: this answer cites no course passage, so check it.*"
#: What the guild's daily budget counts per token (Anthropic's billing): prompt-cache reads
#: cost about a tenth of an input token, cache writes (5-minute cache) about 1.25 times.
CACHE_READ_WEIGHT = 0.1
CACHE_WRITE_WEIGHT = 1.25
#: Earlier turns of a thread sent with a follow-up question (each answer cut to this length),
#: and one passage fewer than for a first question: the turns carry the topic. Together they
#: keep the longest follow-up under 3,000 input tokens (bench/ask_tokens.py).
HISTORY_TURNS = 2
HISTORY_ANSWER_CHARS = 700
FOLLOW_UP_FEWER_PASSAGES = 1
#: Time kept back from the deadline for the local answer and for showing it.
_FALLBACK_RESERVE_S = 0.5
_REDACTED = "[redacted]"


class TutorUnavailableError(TutorError):
    """Claude was required (engine ``llm``) but could not answer; ``reason`` says why."""

    def __init__(self, reason: FallbackReason, ask_log_id: int | None = None) -> None:
        self.reason = reason
        self.ask_log_id = ask_log_id
        hint = {
            FallbackReason.NO_KEY: "no Anthropic API key is configured",
            FallbackReason.BUDGET: "today's token budget for this server is spent",
        }.get(reason, f"the Anthropic API failed ({reason.value})")
        super().__init__(f"The online tutor cannot answer right now: {hint}.")


@dataclass(frozen=True)
class Citation:
    """A course passage an answer rests on."""

    passage_id: str
    lesson: str  # e.g. "Lesson 7 - Pre-training"
    title: str  # the snippet's title

    @property
    def label(self) -> str:
        """How the answer shows it: ``Lesson 7 - Pre-training: Next-token prediction``."""
        return f"{self.lesson}: {self.title}"

    @classmethod
    def of(cls, passage: Passage) -> Citation:
        """The citation of a retrieved passage."""
        return cls(passage.id, passage.citation, passage.title)


@dataclass(frozen=True)
class AskRequest:
    """One question to the tutor: who asks what, where, and how it may be answered.

    ``thread_id`` continues that thread's conversation; ``engine`` overrides the ``ask.engine``
    setting; ``token_budget`` is the server's own daily budget (``/config``), never above
    ``ask.guild_daily_token_budget``.
    """

    learner_id: int
    question: str
    display_name: str = ""
    guild_id: int | None = None
    channel_id: int | None = None
    thread_id: int | None = None
    engine: Engine | None = None
    token_budget: int | None = None


@dataclass(frozen=True)
class Admitted:
    """A request the tutor admitted (:meth:`TutorService.admit`): its question cleaned.

    ``started`` (``time.monotonic()``) is when it was admitted: the answer's deadline and its
    logged latency count from there.
    """

    request: AskRequest
    started: float

    def in_thread(self, thread_id: int | None) -> Admitted:
        """The same question, asked (and logged) as part of thread ``thread_id``."""
        return replace(self, request=replace(self.request, thread_id=thread_id))


@dataclass(frozen=True)
class AskPartial:
    """Claude's answer so far (the whole text, not a delta). Only sent while streaming."""

    text: str


@dataclass(frozen=True)
class AskResult:
    """The final answer. Its ``text`` replaces any partial text shown before."""

    question: str
    text: str
    engine: Literal["llm", "local"]
    fallback_reason: str | None  # a FallbackReason value; None when the chosen engine answered
    citations: tuple[Citation, ...]
    usage: Usage
    latency_ms: int  # from admission to the answer, retrieval included
    model: str | None  # the Claude model, when Claude was called
    ask_log_id: int | None  # None only if the log row could not be written
    #: False when the answer says the course does not cover the question (a local decline, or
    #: a Claude answer that cites no course passage).
    covered: bool = True

    @property
    def cache_applied(self) -> bool:
        """Whether Claude read or wrote the prompt cache for this answer."""
        return bool(self.usage.cache_read_tokens or self.usage.cache_write_tokens)


AskUpdate = AskPartial | AskResult


class RateLimiter:
    """At most ``count`` questions per learner in any ``window_s`` seconds (in memory)."""

    def __init__(self, count: int, window_s: float) -> None:
        self.count = count
        self.window_s = window_s
        self._seen: dict[int, deque[float]] = {}

    def hit(self, learner_id: int, now: float | None = None) -> None:
        """Count one question, or raise :class:`RateLimitedError` saying when to retry."""
        now = time.monotonic() if now is None else now
        times = self._seen.setdefault(learner_id, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) >= self.count:
            wait = max(1, round(self.window_s - (now - times[0]) + 0.5))
            raise RateLimitedError(
                f"You're asking quickly! Please wait {wait} s before your next question "
                f"(up to {self.count} every {self.window_s:g} s)."
            )
        times.append(now)
        if len(self._seen) > 10_000:  # forget learners who have gone quiet
            for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= self.window_s]:
                del self._seen[key]


def start_of_utc_day(now: datetime | None = None) -> datetime:
    """Midnight UTC of today: when every guild's token budget starts again."""
    now = now or utcnow()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def billed_tokens(usage: Usage) -> float:
    """``usage`` in input-token equivalents, as Anthropic bills it (cache reads ~0.1x)."""
    return (
        usage.input_tokens
        + usage.output_tokens
        + CACHE_READ_WEIGHT * usage.cache_read_tokens
        + CACHE_WRITE_WEIGHT * usage.cache_write_tokens
    )


async def tokens_spent_today(
    session: AsyncSession, guild_id: int | None, now: datetime | None = None
) -> int:
    """Tokens Claude billed today (UTC) for questions asked in this guild (or DMs/console).

    Prompt-cache tokens count at their billed weight (:func:`billed_tokens`).
    """
    since = start_of_utc_day(now)
    until = since + timedelta(days=1)
    where = AskLog.guild_id.is_(None) if guild_id is None else AskLog.guild_id == guild_id
    columns = (
        AskLog.input_tokens, AskLog.output_tokens, AskLog.cache_read_tokens,
        AskLog.cache_write_tokens,
    )
    row = (
        await session.execute(
            select(*(func.coalesce(func.sum(c), 0) for c in columns)).where(
                where, AskLog.created_at >= since, AskLog.created_at < until
            )
        )
    ).one()
    usage = Usage(*(int(v or 0) for v in row))
    return round(billed_tokens(usage))


def storable(text: str) -> str:
    """``text`` as every database stores it: without NUL characters (PostgreSQL refuses them)."""
    return text.replace("\x00", "")


async def _reap(task: asyncio.Task[object]) -> None:
    """Wait for a task just cancelled, ignoring how it ended.

    Never swallows a cancellation of the task that waits (a shutdown cancelling the /ask in
    flight must go through).
    """
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.debug("a cancelled Claude call ended with an error", exc_info=True)


def _strip_label(answer: str) -> str:
    return answer.removeprefix(OFFLINE_LABEL).removeprefix(UNCITED_LABEL).strip()


def _elapsed_ms(admitted: Admitted) -> int:
    """Milliseconds since ``admitted`` was admitted."""
    return round((time.monotonic() - admitted.started) * 1000)


async def asker_of(session: AsyncSession, ask_log_id: int) -> int | None:
    """Who asked the logged question ``ask_log_id`` (``None``: no such answer on record).

    Buttons under an answer check ownership here, never against their custom id's text.
    """
    return await session.scalar(select(AskLog.learner_id).where(AskLog.id == ask_log_id))


async def history_for_thread(
    session: AsyncSession, thread_id: int, limit: int = HISTORY_TURNS
) -> list[Turn]:
    """The last ``limit`` answered questions of a thread, oldest first, for a follow-up."""
    rows = (
        await session.execute(
            select(AskLog.question, AskLog.answer)
            .where(AskLog.thread_id == thread_id, AskLog.answer.is_not(None))
            .order_by(AskLog.created_at.desc(), AskLog.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        Turn(question=row.question, answer=_strip_label(row.answer or "")[:HISTORY_ANSWER_CHARS])
        for row in reversed(rows)
    ]


@dataclass(frozen=True)
class TutorRuntime:
    """The tutor's swap unit: a retriever over one course version, and its system prompt.

    ``course`` is that version, when known. A live reload builds a new runtime while the old one keeps answering (the index may take
    a while to embed) and then replaces it at once with :meth:`TutorService.swap`; each
    question reads the runtime once, at its start, so it never mixes two courses.
    """

    retriever: Retriever
    system: str
    course: Course | None = None

    @classmethod
    def of(cls, retriever: Retriever, course: Course | None = None) -> TutorRuntime:
        """The runtime of ``retriever`` (built from ``course``)."""
        return cls(retriever, system_prompt(retriever.passages), course)


class TutorService:
    """Answers questions about the course (see the module docstring for the whole flow).

    An adapter streams the answer like this::

        admitted = tutor.admit(AskRequest(learner_id, question, ...))  # TutorError: reply
        ...  # privately; otherwise defer the reply, then
        updates = tutor.stream(sessions, admitted)
        async with contextlib.aclosing(updates):
            async for update in updates:
                if isinstance(update, AskPartial):
                    ...  # show update.text (the adapter limits how often it edits)
                else:
                    ...  # show update.text and update.citations; it replaces any partial text

    ``TutorUnavailableError`` (a ``TutorError``) can only come when the engine is ``llm``.
    Replies must disable mentions: answers quote learners' text.
    """

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        client: anthropic.AsyncAnthropic | None = None,
        *,
        learners: LearnerService | None = None,
        course: Course | None = None,
    ) -> None:
        self.settings = settings.ask
        self.runtime = TutorRuntime.of(retriever, course)
        #: Where :meth:`load` keeps the index vectors (``None``: built in memory by a caller).
        self.cache_dir: Path | None = None
        self.llm = TutorLLM(client, stall_s=self.settings.stall_s) if client is not None else None
        self.learners = learners or LearnerService(settings.default_timezone)
        self.rate_limiter = RateLimiter(
            self.settings.rate_limit_count, self.settings.rate_limit_window_s
        )
        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
        # Never shown anywhere, even if a model or a server echoed it.
        self._secrets = tuple(s for s in (key,) if len(s) >= 8)

    @classmethod
    async def load(
        cls,
        settings: Settings,
        course: Course,
        *,
        learners: LearnerService | None = None,
        cache_dir: Path | None = None,
        progress: bool = False,
    ) -> TutorService:
        """Load the retriever (embeds the course once, then from a disk cache) and the client."""
        from bot.qa.retrieval import Retriever

        # The same folder bench/ask_local.py and bench/ask_tokens.py use by default.
        folder = cache_dir or settings.paths.data_dir / "cache" / "ask"
        retriever = await asyncio.to_thread(Retriever.load, course, folder, progress=progress)
        tutor = cls(settings, retriever, make_client(settings), learners=learners, course=course)
        tutor.cache_dir = folder
        return tutor

    async def runtime_for(self, course: Course) -> TutorRuntime:
        """A runtime over ``course``, its index built off the event loop (for a live reload).

        Vectors come from the same disk cache as :meth:`load` when the course was seen before.
        """
        from bot.qa.retrieval import Retriever

        folder = self.cache_dir
        if folder is None:
            raise RuntimeError("this tutor was not loaded from a cache folder")
        retriever = await asyncio.to_thread(Retriever.load, course, folder)
        return TutorRuntime.of(retriever, course)

    @property
    def retriever(self) -> Retriever:
        """The current runtime's retriever."""
        return self.runtime.retriever

    def swap(self, runtime: TutorRuntime) -> None:
        """Answer from ``runtime`` from now on (questions already started finish on theirs)."""
        self.runtime = runtime

    @property
    def has_llm(self) -> bool:
        """Whether an API key is configured."""
        return self.llm is not None

    async def close(self) -> None:
        """Close the Anthropic client's connections."""
        if self.llm is not None:
            await self.llm.client.close()

    # -- admission -----------------------------------------------------------------------------

    def admit(self, request: AskRequest, *, rate_limit: bool = True) -> Admitted:
        """``request`` admitted now, its question cleaned; otherwise a :class:`TutorError`.

        Each question is admitted once, before anything slow (an adapter replies privately to
        a refusal before it defers). Cleaning drops NUL characters (PostgreSQL refuses them in
        text) and the spaces around. ``rate_limit=False``: the operator's own tools.
        """
        started = time.monotonic()
        cleaned = storable(request.question).strip()
        if not cleaned:
            raise InvalidInputError("Ask a question about the course, e.g. “What is a token?”.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidInputError(
                f"Please keep questions under {limit} characters (yours has {len(cleaned)})."
            )
        if rate_limit:
            self.rate_limiter.hit(request.learner_id)
        return Admitted(replace(request, question=cleaned), started)

    # -- answering -----------------------------------------------------------------------------

    async def ask(
        self,
        sessions: async_sessionmaker[AsyncSession],
        request: AskRequest,
        *,
        rate_limit: bool = True,
    ) -> AskResult:
        """Admit ``request`` and answer it, for callers that only want the final answer."""
        result: AskResult | None = None
        async with contextlib.aclosing(
            self.stream(sessions, self.admit(request, rate_limit=rate_limit))
        ) as updates:
            async for update in updates:
                if isinstance(update, AskResult):
                    result = update
        assert result is not None
        return result

    async def stream(
        self, sessions: async_sessionmaker[AsyncSession], admitted: Admitted
    ) -> AsyncGenerator[AskUpdate, None]:
        """Answer an admitted question: partial texts (:class:`AskPartial`), then one result.

        The final :class:`AskResult` replaces any partial text. Each database access is its own
        short transaction from ``sessions``, none held while Claude writes.
        """
        request = admitted.request
        question = request.question
        engine = request.engine or self.settings.engine
        loop = asyncio.get_running_loop()
        # The deadline counts from admission, on the loop's clock (which asyncio's timeouts use).
        deadline = loop.time() + self.settings.timeout_s - (time.monotonic() - admitted.started)
        runtime = self.runtime  # read once: a swap meanwhile does not mix two courses
        hits = await asyncio.to_thread(runtime.retriever.search, question, self.settings.passages)

        answer: LlmAnswer | None = None
        reason: FallbackReason | None = None
        usage = Usage()
        if engine != "local":
            if self.llm is None:
                reason = FallbackReason.NO_KEY
            else:
                async with sessions.begin() as session:
                    spent = await tokens_spent_today(session, request.guild_id)
                    history = (
                        await history_for_thread(session, request.thread_id)
                        if request.thread_id else []
                    )
                budget = self.settings.guild_daily_token_budget
                if request.token_budget is not None:
                    budget = min(budget, request.token_budget)
                if spent >= budget:
                    log.info(
                        "token budget spent for guild %s: %d tokens today", request.guild_id, spent
                    )
                    reason = FallbackReason.BUDGET
                else:
                    reserve = min(_FALLBACK_RESERVE_S, self.settings.timeout_s * 0.1)
                    sent = hits[: max(1, len(hits) - FOLLOW_UP_FEWER_PASSAGES)] if history else hits
                    llm_request = build_request(
                        question=question,
                        passages=[hit.passage for hit in sent],
                        history=history,
                        model=self.settings.model,
                        max_tokens=self.settings.max_tokens,
                        system=runtime.system,
                    )
                    outcome: list[LlmAnswer | FallbackReason | Usage] = []
                    # aclosing: if our consumer stops early, the Claude task is cancelled now.
                    async with contextlib.aclosing(
                        self._stream_llm(llm_request, deadline - reserve, outcome)
                    ) as partials:
                        async for partial in partials:
                            yield partial
                    for item in outcome:
                        if isinstance(item, LlmAnswer):
                            answer, usage = item, item.usage
                        elif isinstance(item, FallbackReason):
                            reason = item
                        else:
                            usage = item

        if answer is not None:
            by_id = {hit.passage.id: hit.passage for hit in hits}
            citations = tuple(Citation.of(by_id[pid]) for pid in answer.cited if pid in by_id)
            used: Literal["llm", "local"] = "llm"
            covered = bool(citations)
            text = answer.text if covered else f"{UNCITED_LABEL}\n\n{answer.text}"
        elif engine == "llm":
            assert reason is not None
            row_id = await self._log(
                sessions, admitted, answer=None, engine="llm", reason=reason, usage=usage,
                citations=(),
            )
            raise TutorUnavailableError(reason, row_id)
        else:
            local = await asyncio.to_thread(answer_locally, question, list(hits))
            text = f"{OFFLINE_LABEL}\n\n{local.text}"
            citations = tuple(Citation.of(p) for p in local.citations)
            used = "local"
            covered = local.supported

        text = self._scrub(text)
        latency_ms = _elapsed_ms(admitted)
        row_id = await self._log(
            sessions, admitted, answer=text, engine=used, reason=reason, usage=usage,
            citations=citations, latency_ms=latency_ms,
        )
        yield AskResult(
            question=question,
            text=text,
            engine=used,
            fallback_reason=reason.value if reason else None,
            citations=citations,
            usage=usage,
            latency_ms=latency_ms,
            model=answer.model if answer else (self.settings.model if usage.total else None),
            ask_log_id=row_id,
            covered=covered,
        )

    async def _stream_llm(
        self,
        request: dict[str, object],
        deadline: float,
        outcome: list[LlmAnswer | FallbackReason | Usage],
    ) -> AsyncGenerator[AskPartial, None]:
        """Run Claude in its own task and pass on its text; the outcome lands in ``outcome``.

        The call runs in a task so its deadline and stall timers never fire inside the
        consumer's code (a Discord edit, say) while this generator is suspended at a ``yield``.
        """
        assert self.llm is not None
        latest = [""]
        changed = asyncio.Event()

        def on_text(text: str) -> None:
            latest[0] = text
            changed.set()

        task = asyncio.create_task(self.llm.answer(request, deadline=deadline, on_text=on_text))
        try:
            while not task.done():
                waiter = asyncio.create_task(changed.wait())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if changed.is_set() and not task.done():
                    changed.clear()
                    yield AskPartial(self._scrub(latest[0]))
            try:
                outcome.append(task.result())
            except LlmFailure as failure:
                log.info("answering offline: %s", failure)
                outcome.extend((failure.reason, failure.usage))
            except Exception:
                # A bug, not an API failure: logged once, and the learner still gets an answer.
                log.exception("Claude call failed unexpectedly; answering offline")
                outcome.append(FallbackReason.INTERNAL)
        finally:
            if not task.done():
                task.cancel()
                await _reap(task)

    async def _log(
        self,
        sessions: async_sessionmaker[AsyncSession],
        admitted: Admitted,
        *,
        answer: str | None,
        engine: Literal["llm", "local"],
        reason: FallbackReason | None,
        usage: Usage,
        citations: Sequence[Citation],
        latency_ms: int | None = None,
    ) -> int | None:
        """Write the ``ask_log`` row; a database failure is logged, never shown to the learner.

        ``latency_ms`` defaults to the time since admission.
        """
        request = admitted.request
        if latency_ms is None:
            latency_ms = _elapsed_ms(admitted)
        try:
            async with sessions.begin() as session:
                await self.learners.ensure(session, request.learner_id, request.display_name)
                row = AskLog(
                    learner_id=request.learner_id,
                    guild_id=request.guild_id,
                    channel_id=request.channel_id,
                    thread_id=request.thread_id,
                    question=storable(request.question),
                    answer=None if answer is None else storable(answer),
                    engine=engine,
                    fallback_reason=reason.value if reason else None,
                    model=self.settings.model if (engine == "llm" or usage.total) else None,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=usage.cache_read_tokens,
                    cache_write_tokens=usage.cache_write_tokens,
                    latency_ms=latency_ms,
                    citations=[c.passage_id for c in citations],
                    created_at=utcnow(),
                )
                session.add(row)
                await session.flush()
                row_id = row.id
        except SQLAlchemyError:
            log.exception("could not write the ask log row (the learner still got the answer)")
            return None
        log.info(
            "ask %s: engine=%s reason=%s tokens=%d/%d cache=%d/%d latency=%d ms citations=%s",
            row_id, engine, reason.value if reason else "-", usage.input_tokens,
            usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens, latency_ms,
            ",".join(c.passage_id for c in citations) or "-",
        )
        return row_id

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text


__all__ = [
    "OFFLINE_LABEL",
    "UNCITED_LABEL",
    "Admitted",
    "AskPartial",
    "AskRequest",
    "AskResult",
    "AskUpdate",
    "Citation",
    "RateLimiter",
    "TutorRuntime",
    "TutorService",
    "TutorUnavailableError",
    "asker_of",
    "billed_tokens",
    "history_for_thread",
    "storable",
    "tokens_spent_today",
]
