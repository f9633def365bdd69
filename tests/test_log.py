"""The log set-up: redaction of every kind of secret, the text and JSON formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.log import NOISY_LIBRARIES, REDACTED, event, redact, setup_logging

BOT_TOKEN = ".".join(
    ["MTA5ODc2NTQzMjEwOTg3NjU0Mw", "GhIjKl", "abcdefghijklmnopqrstuvwxyz0123456789AB"]
)
ITOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQ"


@pytest.mark.parametrize(("line", "secret"), [
    (f"POST https://discord.com/api/v10/interactions/1234567890/{ITOKEN}/callback "
     "with None has returned 200", ITOKEN),
    (f"PATCH https://discord.com/api/v10/webhooks/987654321/{ITOKEN}/messages/@original", ITOKEN),
    (f"POST http://127.0.0.1:5000/api/v10/webhooks/987654321/{ITOKEN}?wait=1", ITOKEN),
    (f"For Shard ID 0: WebSocket Event: {{'op': 0, 'd': {{'token': '{ITOKEN}', 'id': '1'}}}}",
     ITOKEN),
    (f'{{"op": 2, "d": {{"token": "{BOT_TOKEN}", "intents": 1}}}}', BOT_TOKEN),
    (f"logging in using static token {BOT_TOKEN}", BOT_TOKEN),
    (f"Authorization: Bot {BOT_TOKEN}", BOT_TOKEN),
    ("x-api-key: sk-ant-" + "api03-abcdefghijklmnop_0123456789",
     "sk-ant-" + "api03-abcdefghijklmnop"),
    ("cannot connect to postgresql+asyncpg://tutor:s3cret-pw@db.example:5432/tutorbot",
     "s3cret-pw"),
    ("url postgresql://tutor:p%40ss@db/tutorbot", "p%40ss"),
])
def test_secrets_are_redacted(line: str, secret: str) -> None:
    shown = redact(line)
    assert secret not in shown and REDACTED in shown


def test_what_is_not_secret_stays() -> None:
    line = ("interaction command=/quiz guild=123456789012345678 latency_ms=12 outcome=ok "
            "http://127.0.0.1:9108/metrics /api/v10/channels/123/messages")
    assert redact(line) == line


def test_known_secrets_are_removed_whatever_their_shape() -> None:
    assert redact("the key is plain-secret-value here", ["plain-secret-value"]) == \
        f"the key is {REDACTED} here"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {name: logging.getLogger(name).level for name in NOISY_LIBRARIES})
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_a_traceback_is_redacted_and_json_lines_keep_fields(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream)
    log = logging.getLogger("bot.test")
    try:
        raise ConnectionError(f"cannot reach /webhooks/1/{ITOKEN}")
    except ConnectionError:
        log.exception("failed %s", "postgresql://u:topsecret@h/db")
    event(log, "job", {"job": "daily-quiz:fire", "outcome": "ok", "posts_made": 1})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert ITOKEN not in first["exc"] and "topsecret" not in first["message"]
    assert second["event"] == "job" and second["posts_made"] == 1
    assert second["message"] == "job job=daily-quiz:fire outcome=ok posts_made=1"


def test_discord_debug_lines_are_kept_only_at_debug(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    logging.getLogger("discord.http").debug("a request")
    logging.getLogger("discord.http").info("an info")
    assert stream.getvalue() == ""
    setup_logging("DEBUG", stream=stream)
    logging.getLogger("discord.http").debug("a request")
    assert "DEBUG   discord.http: a request" in stream.getvalue()
