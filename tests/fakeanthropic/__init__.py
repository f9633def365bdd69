"""A fake Anthropic Messages API for tests and benchmarks (see :mod:`.server`)."""

from .server import (
    DEFAULT_MIN_CACHEABLE_TOKENS,
    TEST_API_KEY,
    Drop,
    FakeMessagesAPI,
    Hang,
    RecordedRequest,
    Reply,
    Scenario,
    Status,
    ThreadedFake,
)
from .tokens import METHOD, estimate_input_tokens

__all__ = [
    "DEFAULT_MIN_CACHEABLE_TOKENS",
    "METHOD",
    "TEST_API_KEY",
    "Drop",
    "FakeMessagesAPI",
    "Hang",
    "RecordedRequest",
    "Reply",
    "Scenario",
    "Status",
    "ThreadedFake",
    "estimate_input_tokens",
]
