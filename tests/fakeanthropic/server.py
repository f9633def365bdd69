"""A fake Anthropic Messages API on 127.0.0.1, scripted per test.

Each request to ``POST /v1/messages`` takes the next scenario from :meth:`FakeMessagesAPI.script`
(then :attr:`FakeMessagesAPI.default`) and is recorded — headers without any credential value,
and the JSON body — so a test can assert what the real ``anthropic`` client sent.

Scenarios:

- :class:`Reply` streams (or returns as JSON) text with citations and usage, then finishes,
  or fails mid-stream: an ``error`` event, a stall (silence until the server closes), or a
  dropped connection.
- :class:`Status` answers an HTTP error (429, 503, 529...) with a short ``retry-after-ms``.
- :class:`Hang` never sends headers. :class:`Drop` closes the connection before answering.

Citations are made the way the API makes them: from the request's own ``search_result`` blocks
(``source``, ``title``, the cited text), so a parser is tested on realistic data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .tokens import estimate_input_tokens, system_tokens, text_tokens

#: Haiku-class models cache nothing below this many tokens (Anthropic's docs: 4,096 for
#: Claude Haiku 4.5; 2,048 for Haiku 3.x; 1,024 for older Sonnets).
DEFAULT_MIN_CACHEABLE_TOKENS = 4096

#: A made-up key for tests, which check it never shows up in answers, logs, errors or rows.
TEST_API_KEY = "fake-test-key-0123456789abcdef-SECRET"

_SECRET_HEADERS = {"authorization", "x-api-key"}

#: A part of a reply: plain text, or ``(text, index of the cited search result)``.
Part = str | tuple[str, int]


@dataclass(frozen=True)
class Reply:
    """A successful answer, or one that fails after streaming ``parts``."""

    parts: Sequence[Part] = ("This is a tutor answer.",)
    then: Literal["finish", "error", "stall", "drop"] = "finish"
    error_type: str = "overloaded_error"
    chunk_chars: int = 16
    stop_reason: str = "end_turn"
    delay_s: float = 0.0  # before each text delta


@dataclass(frozen=True)
class Status:
    """An HTTP error response."""

    status: int
    error_type: str = ""
    retry_after_ms: int | None = 20

    def body(self) -> dict[str, Any]:
        """The error body the API sends with this status."""
        kind = self.error_type or {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(self.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"fake {self.status}"}}


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (until the fake closes)."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without any response."""


Scenario = Reply | Status | Hang | Drop


@dataclass
class RecordedRequest:
    """One request as the fake received it, with credentials removed."""

    path: str
    headers: dict[str, str]
    had_credentials: bool
    body: dict[str, Any]
    scenario: Scenario | None = None

    @property
    def system_text(self) -> str:
        """Every system block's text, joined."""
        system = self.body.get("system") or []
        if isinstance(system, str):
            return system
        return "\n".join(str(b.get("text", "")) for b in system)

    @property
    def last_user_content(self) -> list[dict[str, Any]]:
        """The content blocks of the last user message."""
        content = self.body["messages"][-1]["content"]
        return [{"type": "text", "text": content}] if isinstance(content, str) else content

    @property
    def search_results(self) -> list[dict[str, Any]]:
        """Every ``search_result`` block of every message, in request order."""
        found: list[dict[str, Any]] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                found.extend(b for b in content if b.get("type") == "search_result")
        return found


@dataclass
class FakeMessagesAPI:
    """The fake server. ``async with FakeMessagesAPI() as api:`` then use ``api.base_url``."""

    default: Scenario = field(default_factory=Reply)
    min_cacheable_tokens: int = DEFAULT_MIN_CACHEABLE_TOKENS
    model: str = "claude-haiku-5-5"
    requests: list[RecordedRequest] = field(default_factory=list)
    count_token_requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[Scenario] = deque()
        self._cached_prefixes: set[str] = set()
        self._closing = asyncio.Event()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeMessagesAPI:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Release hanging and stalled handlers, then stop listening."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeMessagesAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """What to give the client as ``base_url``."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, *scenarios: Scenario) -> None:
        """Answer the next requests with these scenarios, in order (then :attr:`default`)."""
        self._queue.extend(scenarios)

    # -- handlers ----------------------------------------------------------------------------

    def _record(self, request: web.Request, body: dict[str, Any]) -> RecordedRequest:
        headers = {k.lower(): v for k, v in request.headers.items()}
        had = any(h in headers for h in _SECRET_HEADERS)
        kept = {k: v for k, v in headers.items() if k not in _SECRET_HEADERS}
        recorded = RecordedRequest(request.path, kept, had, body)
        return recorded

    async def _count_tokens(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.count_token_requests.append(body)
        return web.json_response({"input_tokens": estimate_input_tokens(body)})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        recorded = self._record(request, body)
        scenario = self._queue.popleft() if self._queue else self.default
        recorded.scenario = scenario
        self.requests.append(recorded)

        if isinstance(scenario, Hang):
            await self._closing.wait()
            raise web.HTTPServiceUnavailable()
        if isinstance(scenario, Drop):
            _abort(request)
            return web.Response()
        if isinstance(scenario, Status):
            headers = {"request-id": f"req_fake_{next(self._ids)}"}
            if scenario.retry_after_ms is not None:
                headers["retry-after-ms"] = str(scenario.retry_after_ms)
                headers["retry-after"] = str(max(1, round(scenario.retry_after_ms / 1000)))
            return web.json_response(scenario.body(), status=scenario.status, headers=headers)
        if body.get("stream"):
            return await self._stream(request, body, scenario)
        return web.json_response(self._whole_message(body, scenario))

    # -- message building --------------------------------------------------------------------

    def _usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        total = estimate_input_tokens(body)
        marked = _last_cache_marked_system_block(body)
        created = read = 0
        if marked is not None:
            prefix = system_tokens(body, through=marked)
            if prefix >= self.min_cacheable_tokens:
                key = hashlib.sha256(
                    json.dumps(body["system"][: marked + 1], sort_keys=True).encode()
                ).hexdigest()
                if key in self._cached_prefixes:
                    read = prefix
                else:
                    created = prefix
                    self._cached_prefixes.add(key)
        return {
            "input_tokens": total - created - read,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "output_tokens": 0,
        }

    def _blocks(self, body: Mapping[str, Any], reply: Reply) -> list[dict[str, Any]]:
        """The answer as content blocks: consecutive plain text merges, each cited part is its own."""
        results = RecordedRequest("", {}, False, dict(body)).search_results
        blocks: list[dict[str, Any]] = []
        for part in reply.parts:
            if isinstance(part, tuple):
                text, index = part
                result = results[index]
                inner = result.get("content", [])
                citation = {
                    "type": "search_result_location",
                    "cited_text": "".join(b.get("text", "") for b in inner[:1]),
                    "search_result_index": index,
                    "source": result.get("source", ""),
                    "title": result.get("title"),
                    "start_block_index": 0,
                    "end_block_index": 1,
                }
                blocks.append({"type": "text", "text": text, "citations": [citation]})
            elif blocks and not blocks[-1]["citations"]:
                blocks[-1]["text"] += part
            else:
                blocks.append({"type": "text", "text": part, "citations": []})
        return blocks

    def _message_id(self) -> str:
        return f"msg_fake_{next(self._ids):04d}"

    def _whole_message(self, body: Mapping[str, Any], scenario: Scenario) -> dict[str, Any]:
        reply = scenario if isinstance(scenario, Reply) else Reply()
        blocks = self._blocks(body, reply)
        usage = self._usage(body)
        usage["output_tokens"] = sum(text_tokens(b["text"]) for b in blocks)
        for block in blocks:
            if not block["citations"]:
                block["citations"] = None
        return {
            "id": self._message_id(),
            "type": "message",
            "role": "assistant",
            "model": body.get("model", self.model),
            "content": blocks,
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    async def _stream(
        self, request: web.Request, body: Mapping[str, Any], scenario: Scenario
    ) -> web.StreamResponse:
        assert isinstance(scenario, Reply)
        try:
            return await self._stream_reply(request, body, scenario)
        except ConnectionResetError:
            # The client gave up (its deadline or stall timer fired): normal in these tests.
            return web.Response()

    async def _stream_reply(
        self, request: web.Request, body: Mapping[str, Any], reply: Reply
    ) -> web.StreamResponse:
        scenario = reply
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "request-id": f"req_fake_{next(self._ids)}",
            }
        )
        await response.prepare(request)

        async def send(name: str, data: Mapping[str, Any]) -> None:
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        usage = self._usage(body)
        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": self._message_id(),
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", self.model),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {**usage, "output_tokens": 1},
                },
            },
        )
        output_tokens = 0
        for index, block in enumerate(self._blocks(body, scenario)):
            await send(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": "", "citations": []},
                },
            )
            for citation in block["citations"]:
                await send(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "citations_delta", "citation": citation},
                    },
                )
            text = block["text"]
            for start in range(0, len(text), scenario.chunk_chars):
                if scenario.delay_s:
                    await asyncio.sleep(scenario.delay_s)
                chunk = text[start : start + scenario.chunk_chars]
                output_tokens += text_tokens(chunk)
                await send(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": chunk},
                    },
                )
            await send("content_block_stop", {"type": "content_block_stop", "index": index})

        if scenario.then == "error":
            await send(
                "error",
                {"type": "error", "error": {"type": scenario.error_type, "message": "fake"}},
            )
            await response.write_eof()
            return response
        if scenario.then == "stall":
            await send("ping", {"type": "ping"})
            await self._closing.wait()
            return response
        if scenario.then == "drop":
            _abort(request)
            return response

        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": scenario.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response


def _last_cache_marked_system_block(body: Mapping[str, Any]) -> int | None:
    system = body.get("system")
    if not isinstance(system, list):
        return None
    marked = [i for i, block in enumerate(system) if block.get("cache_control")]
    return marked[-1] if marked else None


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.abort()


class ThreadedFake:
    """The fake on its own event loop in a thread, for synchronous code (a CLI's ``asyncio.run``).

    ``with ThreadedFake() as api:`` gives the running :class:`FakeMessagesAPI`.
    """

    def __init__(self, **options: Any) -> None:
        self.api = FakeMessagesAPI(**options)
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeMessagesAPI:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.api.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.api

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
