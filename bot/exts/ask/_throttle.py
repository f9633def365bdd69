"""Showing a streamed answer: the newest text, at most one edit of the reply per interval."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Discord allows about five edits of a message in five seconds; one a second leaves room.
EDIT_INTERVAL_S = 1.0


class ThrottledEdits:
    """Shows the newest partial text through ``show``, never twice within ``interval`` seconds.

    Texts that arrive while an edit is waiting for its turn replace each other, so a fast stream
    costs one edit a second whatever its pace. The interval runs from the *end* of one edit to
    the start of the next (on a monotonic clock), so the edits also reach Discord at least
    ``interval`` apart. :meth:`finish` makes the last edit (the final answer) under the same
    rule, after any edit in flight has landed, so a late partial can never overwrite it.
    """

    def __init__(
        self,
        show: Callable[[str], Awaitable[None]],
        *,
        interval: float = EDIT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._interval = interval
        self._clock = clock
        self._latest: str | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # held during an edit
        self._last_edit_end = -math.inf
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def update(self, text: str) -> None:
        """Show ``text`` at the next turn (replacing any text still waiting)."""
        if self._closed:
            return
        self._latest = text
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ask: partial answer edits")

    async def finish(self, last_edit: Callable[[], Awaitable[T]]) -> T:
        """Stop showing partial text, then run ``last_edit`` when its turn comes."""
        await self.stop()
        await self._wait_for_turn()
        try:
            return await last_edit()
        finally:
            self._last_edit_end = self._clock()

    async def stop(self) -> None:
        """Show no more partial text; waits for an edit in flight (idempotent)."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        async with self._lock:  # an edit in flight lands first; none starts after this
            task.cancel()
        await asyncio.wait({task})

    async def _wait_for_turn(self) -> None:
        delay = self._last_edit_end + self._interval - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await self._wait_for_turn()
            async with self._lock:
                if self._closed:
                    return
                self._wake.clear()
                text, self._latest = self._latest, None
                if text is None:
                    continue
                try:
                    await self._show(text)
                except discord.HTTPException as exc:
                    # A lost partial edit is harmless: the next one, or the final answer, follows.
                    log.warning("could not show a partial answer: %s", exc)
                except Exception:
                    log.exception("showing a partial answer failed; the final answer follows")
                finally:
                    self._last_edit_end = self._clock()
