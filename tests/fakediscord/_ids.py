"""Snowflakes and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime
import secrets
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Unique, increasing snowflake ids whose timestamp part is the current time.

    discord.py derives ``created_at`` from ids, so they must look like real ones.
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        """A fresh id, larger than every id handed out before."""
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(now, self._last + 1)
        return self._last

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh id that Discord's formula ``(id >> 22) % shard_count`` puts on ``shard_id``."""
        value = self.next()
        while (value >> 22) % shard_count != shard_id:
            value += 1 << 22  # one millisecond later
        self._last = value
        return value


def iso_now() -> str:
    """The current time as Discord writes timestamps (ISO 8601 with an offset)."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def iso_from_snowflake(snowflake: int) -> str:
    """The creation time encoded in a snowflake, ISO 8601."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()


def new_token(prefix: str = "aW50ZXJhY3Rpb24") -> str:
    """An opaque interaction or session token."""
    return f"{prefix}:{secrets.token_urlsafe(24)}"
