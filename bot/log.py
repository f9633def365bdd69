"""Logging set-up: one format for the bot, the console and the command line.

Everything goes to standard error (standard output stays clean for ``ask --jsonl``), as plain
text by default or as JSON lines (``log.format = "json"``), one object per record.

Every handler installed here (and every handler already on the root logger or discord.py's
loggers) carries a :class:`RedactingFilter`: at DEBUG discord.py logs request URLs and gateway
payloads, which hold interaction and webhook tokens, and an exception may quote a database URL
with its password. The filter rewrites each record's message (and its traceback text) before
any handler writes it.

The bot writes one line per interaction and per job (:func:`event`), with named fields the JSON
format keeps as keys and the text format shows as ``key=value``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

#: Libraries whose INFO/DEBUG output is noise for us. At DEBUG the Anthropic SDK would log
#: whole request bodies (learners' questions), so these stay at WARNING whatever the level.
#: discord.py is the exception: at DEBUG it is kept (that is how gateway trouble is diagnosed),
#: and the redacting filter takes the tokens out of it.
NOISY_LIBRARIES = ("discord", "httpx", "httpx2", "httpcore", "anthropic", "alembic", "bm25s")
#: Where the lines of :func:`event` go (one logger, so they are easy to route or grep).
EVENTS_LOGGER = "tutorbot.events"
REDACTED = "[redacted]"

LogFormat = Literal["text", "json"]

#: A token in a URL path: everything up to the next ``/``, query or quote (``%3A`` included:
#: interaction tokens hold a ``:``, which URLs carry encoded).
_TOKEN = r"[^/\s?#'\"]+"
#: (pattern, replacement); applied in order to every message.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Interaction callbacks and webhooks (followups, @original): the token is in the path.
    (re.compile(rf"(/interactions/\d+/){_TOKEN}"), rf"\1{REDACTED}"),
    (re.compile(rf"(/webhooks/\d+/){_TOKEN}"), rf"\1{REDACTED}"),
    # "token": "..." in gateway payloads (IDENTIFY, RESUME, INTERACTION_CREATE), as JSON or as
    # the Python repr discord.py logs; also escaped inside a JSON string.
    (re.compile(r"""(\\?["']token\\?["']\s*:\s*\\?["'])[^"'\\]+"""), rf"\1{REDACTED}"),
    # Authorization headers.
    (re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9_\-.]{20,}"), rf"\1 {REDACTED}"),
    # A Discord bot token anywhere: three base64url parts (id, timestamp, HMAC).
    (re.compile(r"\b[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}"), REDACTED),
    # Anthropic API keys.
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]+"), REDACTED),
    (re.compile(r"""((?:x-api-key|api_key)["']?\s*[:=]\s*["']?)[A-Za-z0-9_\-]{8,}""",
                re.IGNORECASE), rf"\1{REDACTED}"),
    # The password of a database URL: scheme://user:password@host.
    (re.compile(r"([a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(@)", re.IGNORECASE),
     rf"\1{REDACTED}\2"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with tokens, keys and passwords replaced by ``[redacted]``.

    ``secrets`` are values known to be secret (the configured token and key), removed wherever
    they appear, whatever their shape.
    """
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback without secrets; never drops a record.

    The record is changed in place (``msg`` becomes the redacted, formatted message and
    ``args`` empty), so every later handler sees the redacted version too.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place (once); always keep it."""
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: show what there is
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        setattr(record, "_redacted", True)  # noqa: B010 (a LogRecord has no such slot)
        return True


class _QuietLibraries(logging.Filter):
    """Drops library records below WARNING (but discord.py's when DEBUG is asked for).

    Even if a library lowers its own logger's level (bm25s sets DEBUG on import).
    """

    def __init__(self, keep: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.quiet = tuple(name for name in NOISY_LIBRARIES if name not in keep)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in self.quiet
        )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-12-01T09:00:00.123Z INFO    bot.app: message``, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (plus its traceback)."""
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, then the fields.

    The fields of an :func:`event` line become keys of their own; a traceback is ``exc``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object."""
        data: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                data.setdefault(str(key), value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


def _shown(value: object) -> str:
    text = "-" if value is None else str(value)
    if not text or any(ch.isspace() or ch in "\"=" for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def event(
    logger: logging.Logger, kind: str, fields: Mapping[str, object], *,
    level: int = logging.INFO,
) -> None:
    """Log one ``kind`` line (``interaction``, ``job``) with named ``fields``.

    The text format shows ``interaction command=/quiz outcome=ok ...``; the JSON format has
    ``"event": "interaction"`` and one key per field. ``None`` shows as ``-``.
    """
    text = " ".join(f"{key}={_shown(value)}" for key, value in fields.items())
    logger.log(level, "%s %s", kind, text, extra={"fields": {"event": kind, **fields}})


def _install_filter(handler: logging.Handler, redacting: RedactingFilter) -> None:
    for existing in handler.filters:
        if isinstance(existing, RedactingFilter):
            handler.removeFilter(existing)
    # First, so every other filter and the handler itself see the redacted record.
    handler.filters.insert(0, redacting)


def redact_every_handler(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put a :class:`RedactingFilter` on every handler of the root and discord.py's loggers."""
    redacting = RedactingFilter(secrets)
    loggers = [logging.getLogger(), logging.getLogger("discord")]
    loggers += [
        logger for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith("discord.")
    ]
    for logger in loggers:
        for handler in logger.handlers:
            _install_filter(handler, redacting)
    return redacting


def setup_logging(
    level: str = "INFO",
    log_format: LogFormat = "text",
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to standard error (or ``stream``) in ``log_format``, redacted; returns the handler.

    At ``DEBUG`` discord.py's own debug lines (requests, gateway events) are kept too;
    ``secrets`` (the configured token and API key) are removed wherever they appear.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    keep = ("discord",) if level == "DEBUG" else ()
    handler.addFilter(_QuietLibraries(keep))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if name in keep else logging.WARNING)
    redact_every_handler(secrets)
    return handler


__all__ = [
    "EVENTS_LOGGER",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "event",
    "redact",
    "redact_every_handler",
    "setup_logging",
]
