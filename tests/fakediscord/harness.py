"""Run a real discord.py client against a ``FakeDiscord`` and stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import discord
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.bot import point_discord_py_at

from ._interactions import BotStoppedError
from ._server import FakeDiscord


class _ReportingWebhookAdapter(AsyncWebhookAdapter):
    """discord.py's webhook adapter (interaction responses, followups), reporting each
    finished request to the fake. Installed through discord.py's own ``async_context``."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__()
        self._fake = fake

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().request(route, *args, **kwargs)
        finally:
            self._fake.bot_consumed(route.method, route.url)


def _report_http_requests(fake: FakeDiscord, client: discord.Client) -> None:
    """Wrap the client's REST entry point so that every finished request is reported."""
    http = client.http
    original = http.request

    async def request(route: Route, **kwargs: Any) -> Any:
        try:
            return await original(route, **kwargs)
        finally:
            fake.bot_consumed(route.method, route.url)

    http.request = request  # type: ignore[method-assign]


class RunningClient:
    """A discord.py client connected to a fake, running in a background task."""

    def __init__(self, fake: FakeDiscord, client: discord.Client, token: str) -> None:
        self.fake = fake
        self.client = client
        self.token = token
        self.task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self, within: float = 10.0) -> None:
        """Log in, connect, and return once the client has fired ``on_ready``.

        ``Client.start()`` is ``login()`` then ``connect()``; doing the two steps here lets us
        wait on the client's ready event, which exists only after ``login()``.
        """
        self.fake._changes.failure = None
        self.fake._unconsumed.clear()
        self.fake.tracking = True
        _report_http_requests(self.fake, self.client)
        # The connect task and every task it spawns copy this context, hence this adapter.
        previous_adapter = async_context.get()
        async_context.set(_ReportingWebhookAdapter(self.fake))
        try:
            await self.client.login(self.token)
            self.task = asyncio.create_task(self.client.connect(), name="discord-client-connect")
        finally:
            async_context.set(previous_adapter)
        self.task.add_done_callback(self._on_done)
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self.task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        if self.task.done():
            raise BotStoppedError("the client stopped before it was ready") from self._failure()
        raise TimeoutError(f"the client was not ready after {within} s")

    def _failure(self) -> BaseException | None:
        assert self.task is not None
        if self.task.cancelled():
            return asyncio.CancelledError()
        return self.task.exception()

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if self._stopping:
            return
        # A payload that makes a discord.py parser raise ends connect() without a word.
        cause = self._failure()
        failure = BotStoppedError(f"Client.connect() ended by itself ({cause!r})")
        failure.__cause__ = cause
        self.fake._changes.fail(failure)

    def assert_alive(self) -> None:
        """Fail if the client's task has ended."""
        if self.task is None or self.task.done():
            raise BotStoppedError("the client is not running") from (
                self._failure() if self.task else None
            )

    async def stop(self, within: float = 10.0) -> BaseException | None:
        """Close the client, wait for its task to end, and return what it failed with (if so)."""
        self._stopping = True
        await self.client.close()
        failure: BaseException | None = None
        if self.task is not None:
            done, _ = await asyncio.wait({self.task}, timeout=within)
            if not done:
                self.task.cancel()
                failure = TimeoutError(f"the client did not stop within {within} s")
            else:
                failure = self._failure()
        # Responses the closed client never got to handle must not hold up the next one.
        self.fake._unconsumed.clear()
        return failure


@contextlib.asynccontextmanager
async def run_client(
    fake: FakeDiscord,
    client: discord.Client,
    *,
    token: str | None = None,
    ready_timeout: float = 10.0,
) -> AsyncIterator[RunningClient]:
    """Point discord.py at ``fake``, run ``client`` until ready, and close it on exit.

    On exit the client must still be running: a client that died silently fails the test.
    """
    previous = point_discord_py_at(fake.api_base, fake.gateway_url)
    running = RunningClient(fake, client, token or fake.token)
    try:
        await running.start(ready_timeout)
        yield running
        running.assert_alive()
    except BaseException:
        await running.stop()
        raise
    else:
        failure = await running.stop()
        if failure is not None:
            raise BotStoppedError("the client failed while closing") from failure
    finally:
        point_discord_py_at(previous.api_base, previous.gateway_url)
