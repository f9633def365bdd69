"""Logging set-up: one format for the bot, the console and the command line."""

from __future__ import annotations

import logging
import sys

#: Libraries whose INFO/DEBUG output is noise for us. At DEBUG the Anthropic SDK would log
#: whole request bodies (learners' questions), so these stay at WARNING whatever the level.
NOISY_LIBRARIES = ("discord", "httpx", "httpx2", "httpcore", "anthropic", "alembic", "bm25s")


class _QuietLibraries(logging.Filter):
    """Drops library records below WARNING.

    Even if a library lowers its own logger's level (bm25s sets DEBUG on import).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in NOISY_LIBRARIES
        )


def setup_logging(level: str = "INFO") -> None:
    """Log to standard error (standard output stays clean for ``ask --jsonl``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(_QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
