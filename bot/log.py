"""Logging set-up: one format for the bot, the console and the command line."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str = "INFO") -> None:
    """Log to standard error (standard output stays clean for ``ask --jsonl``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py and httpx are chatty at INFO; their warnings still show.
    for noisy in ("discord", "httpx", "httpcore", "anthropic", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
