"""A documented, deterministic *estimate* of the input tokens of a Messages API request.

Claude's tokenizer is not public, so nothing offline can count its tokens exactly. This estimate
takes every piece of text the model reads (system blocks, message text, each search result's
title, source and content, history turns), divides its length in characters by
:data:`CHARS_PER_TOKEN` (Anthropic's rule of thumb for English prose is about 3.5 characters per
token), rounds up, and adds a small fixed overhead per content block and per message for the
structure the API wraps around them. The fake Messages API reports ``usage.input_tokens`` computed
this way and ``bench/ask_tokens.py`` uses the same function, so both say the same number.
It is an estimate: real counts may differ by some tens of percent either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

CHARS_PER_TOKEN = 3.5
BLOCK_OVERHEAD = 5  # per content block (text, search_result): its framing
MESSAGE_OVERHEAD = 4  # per message: role markers

METHOD = (
    f"estimate: ceil(characters / {CHARS_PER_TOKEN}) per text piece, plus {BLOCK_OVERHEAD} per "
    f"content block and {MESSAGE_OVERHEAD} per message (Claude's tokenizer is not public)"
)


def text_tokens(text: str) -> int:
    """Estimated tokens of one piece of text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def _block_texts(block: Any) -> Iterator[str]:
    if isinstance(block, str):
        yield block
        return
    if not isinstance(block, Mapping):
        return
    kind = block.get("type")
    if kind == "text":
        yield str(block.get("text", ""))
    elif kind == "search_result":
        yield str(block.get("title", ""))
        yield str(block.get("source", ""))
        for inner in block.get("content", []):
            yield from _block_texts(inner)
    elif kind == "document":
        yield str(block.get("title", "") or "")
        source = block.get("source", {})
        if isinstance(source, Mapping):
            data = source.get("data")
            if isinstance(data, str):
                yield data
            for inner in source.get("content", []) if isinstance(source.get("content"), list) else []:
                yield from _block_texts(inner)


def _blocks_tokens(blocks: Any) -> int:
    if isinstance(blocks, str):
        return text_tokens(blocks) + BLOCK_OVERHEAD
    total = 0
    for block in blocks or []:
        total += BLOCK_OVERHEAD + sum(text_tokens(t) for t in _block_texts(block))
    return total


def system_tokens(body: Mapping[str, Any], *, through: int | None = None) -> int:
    """Estimated tokens of the system prompt (its first ``through + 1`` blocks when given)."""
    system = body.get("system") or []
    if isinstance(system, str):
        return _blocks_tokens(system)
    blocks = list(system) if through is None else list(system)[: through + 1]
    return _blocks_tokens(blocks)


def estimate_input_tokens(body: Mapping[str, Any]) -> int:
    """Estimated input tokens of a whole request body (system + messages)."""
    total = system_tokens(body)
    for message in body.get("messages", []):
        total += MESSAGE_OVERHEAD + _blocks_tokens(message.get("content", []))
    return total
