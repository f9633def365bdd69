"""Interactions as a test sees them: a handle to wait on what the bot answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ._world import FakeChannel, FakeGuild, FakeMessage, FakeUser, walk_components

if TYPE_CHECKING:
    from ._server import FakeDiscord

T = TypeVar("T")

# Interaction types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback (response) types.
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9
CALLBACK_NAMES = {
    CHANNEL_MESSAGE: "message",
    DEFERRED_CHANNEL_MESSAGE: "deferred message",
    DEFERRED_UPDATE_MESSAGE: "deferred update",
    UPDATE_MESSAGE: "update message",
    AUTOCOMPLETE_RESULT: "autocomplete result",
    MODAL: "modal",
}


class FakeDiscordTimeoutError(AssertionError):
    """The bot did not do what the test waited for in time."""


class BotStoppedError(AssertionError):
    """The bot's ``Client.start()`` task ended while a test was waiting on it."""


class UnexpectedResponseError(AssertionError):
    """The bot answered, but not with the kind of response the test asked for."""


@dataclass
class Rejection:
    """An error the fake answered the bot with (a 4xx, as Discord would)."""

    method: str
    path: str
    status: int
    code: int
    message: str
    errors: dict[str, Any] | None
    interaction_id: int | None = None

    def __str__(self) -> str:
        detail = f" {self.errors}" if self.errors else ""
        return f"{self.method} {self.path} -> {self.status} ({self.code}) {self.message}{detail}"


@dataclass
class FakeModal:
    """A modal the bot opened (a type 9 response)."""

    custom_id: str
    title: str
    components: list[dict[str, Any]]
    #: The interaction the modal answered; a submit goes back through it.
    source: Interaction

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """Every text input, in order (inside action rows or labels)."""
        return [c for c in walk_components(self.components) if c.get("type") == 4]

    def input(self, custom_id: str) -> dict[str, Any]:
        """The text input with this ``custom_id``."""
        for text_input in self.inputs:
            if text_input.get("custom_id") == custom_id:
                return text_input
        raise KeyError(
            f"modal has no input {custom_id!r}; it has {[i['custom_id'] for i in self.inputs]}"
        )

    def label_of(self, custom_id: str) -> str | None:
        """The label shown for an input (the Label component's, or the old inline one)."""
        for component in self.components:
            child = component.get("component")
            if component.get("type") == 18 and child and child.get("custom_id") == custom_id:
                return component.get("label")
        return self.input(custom_id).get("label")


class Changes:
    """Wakes every waiter whenever the fake's state changes; fails them if the bot died."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.failure: BaseException | None = None

    def notify(self) -> None:
        """Something changed: let waiters re-check their condition."""
        self._event.set()
        self._event = asyncio.Event()

    def fail(self, failure: BaseException) -> None:
        """The bot is gone: every wait raises from now on."""
        self.failure = failure
        self.notify()

    async def wait_until(self, check: Callable[[], T | None], within: float, what: str) -> T:
        """Return ``check()`` as soon as it is not None; raise after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self.failure is not None:
                raise BotStoppedError(f"the bot stopped while waiting for {what}") from self.failure
            value = check()
            if value is not None:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FakeDiscordTimeoutError(f"timed out after {within} s waiting for {what}")
            event = self._event
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass


@dataclass(eq=False)
class Interaction:
    """One interaction the fake dispatched, and everything the bot did about it."""

    fake: FakeDiscord
    id: int
    token: str
    type: int
    user: FakeUser
    channel: FakeChannel
    guild: FakeGuild | None
    payload: dict[str, Any]
    #: For a button or select: the message it sits on. For a modal submit: that message, if any.
    source_message: FakeMessage | None = None
    #: For a modal submit: the interaction that opened the modal.
    parent: Interaction | None = None
    dispatched_at: float = 0.0
    dispatched_perf: float = 0.0
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    acked_perf: float | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    #: Every message version that carried content for this interaction, in arrival order.
    deliveries: list[FakeMessage] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    opened_modal: FakeModal | None = None
    autocomplete_choices: list[dict[str, Any]] | None = None
    expired: bool = False
    _deadline_timer: asyncio.TimerHandle | None = None
    _deadline_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def data(self) -> dict[str, Any]:
        """The ``data`` object the bot received."""
        return self.payload["data"]

    @property
    def acknowledged(self) -> bool:
        """An initial response was accepted."""
        return self.callback_type is not None

    def _describe(self) -> str:
        kind = {2: "command", 3: "component", 4: "autocomplete", 5: "modal submit"}[self.type]
        name = self.data.get("name") or self.data.get("custom_id")
        state = CALLBACK_NAMES.get(self.callback_type or 0, "no response yet")
        rejected = "".join(f"\n  rejected: {r}" for r in self.rejections)
        return f"{kind} {name!r} (interaction {self.id}; {state}){rejected}"

    async def acknowledgement(self) -> int:
        """Wait for the initial response; return its callback type (4 to 9)."""
        return await self.fake._changes.wait_until(
            lambda: self.callback_type, self.fake.wait_timeout, f"a response to {self._describe()}"
        )

    async def response(self) -> FakeMessage:
        """The first message content the bot gave for this interaction.

        Whether it answered directly (type 4), edited the message (type 7), or deferred
        (type 5 or 6) and then sent a followup or edited the original.
        """

        def first_delivery() -> FakeMessage | None:
            if self.callback_type in (AUTOCOMPLETE_RESULT, MODAL):
                raise UnexpectedResponseError(
                    f"the bot answered {self._describe()} with a "
                    f"{CALLBACK_NAMES[self.callback_type]}, not a message"
                )
            return self.deliveries[0] if self.deliveries else None

        return await self.fake._changes.wait_until(
            first_delivery, self.fake.wait_timeout, f"message content for {self._describe()}"
        )

    async def delivery(self, index: int) -> FakeMessage:
        """The ``index``-th message content (0 is what ``response()`` returns)."""
        return await self.fake._changes.wait_until(
            lambda: self.deliveries[index] if len(self.deliveries) > index else None,
            self.fake.wait_timeout,
            f"message content #{index} for {self._describe()}",
        )

    async def followup(self, index: int = 0) -> FakeMessage:
        """The ``index``-th followup message that was not the filled-in deferred response."""
        return await self.fake._changes.wait_until(
            lambda: self.followups[index] if len(self.followups) > index else None,
            self.fake.wait_timeout,
            f"followup #{index} for {self._describe()}",
        )

    def messages(self) -> list[FakeMessage]:
        """Every message the bot sent or edited for this interaction, current state, in order."""
        seen: list[FakeMessage] = []
        for message in self.deliveries:
            if message not in seen:
                seen.append(message)
        return seen

    async def choices(self) -> list[dict[str, Any]]:
        """The autocomplete choices the bot returned (``[{"name": ..., "value": ...}]``)."""

        def answered() -> list[dict[str, Any]] | None:
            if self.autocomplete_choices is None and self.rejections:
                # An autocomplete gets one answer; once refused there is nothing to wait for.
                raise UnexpectedResponseError(f"the fake refused the choices: {self.rejections[0]}")
            return self.autocomplete_choices

        return await self.fake._changes.wait_until(
            answered, self.fake.wait_timeout, f"choices for {self._describe()}"
        )

    async def modal(self) -> FakeModal:
        """The modal the bot opened."""

        def opened() -> FakeModal | None:
            if self.callback_type is not None and self.callback_type != MODAL:
                raise UnexpectedResponseError(
                    f"the bot answered {self._describe()} without a modal"
                )
            return self.opened_modal

        return await self.fake._changes.wait_until(
            opened, self.fake.wait_timeout, f"a modal for {self._describe()}"
        )

    async def rejection(self, index: int = 0) -> Rejection:
        """The ``index``-th error the fake answered the bot with for this interaction."""
        return await self.fake._changes.wait_until(
            lambda: self.rejections[index] if len(self.rejections) > index else None,
            self.fake.wait_timeout,
            f"a rejected request for {self._describe()}",
        )

    async def deadline_passed(self) -> None:
        """Return once the initial-response window (``fake.response_deadline``) has closed."""
        await self._deadline_event.wait()

    async def redeliver(self) -> None:
        """Dispatch the same INTERACTION_CREATE again (at-least-once delivery after a resume)."""
        await self.fake._dispatch_interaction(self, redelivery=True)

    def latency(self) -> float | None:
        """Seconds from dispatch to the first message content, or None if none yet."""
        if not self.deliveries:
            return None
        return self.deliveries[0].arrived_at - self.dispatched_perf

    def _start_deadline(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self.dispatched_at = loop.time()
        self.dispatched_perf = time.perf_counter()
        self._deadline_event.clear()
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        self._deadline_timer = loop.call_later(seconds, self._deadline_event.set)

    def _cancel_timer(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def __repr__(self) -> str:
        return f"<Interaction {self._describe()}>"
