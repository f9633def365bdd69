"""Logs, metrics and /healthz of the real bot against the fake Discord (issue #12, §2-§4).

The bot runs with discord.py's loggers at DEBUG (request URLs, gateway payloads), and every
line written is checked for the bot token, the interaction tokens, an Anthropic key and a
database password. The metrics endpoint is scraped over HTTP after driving interactions, and
``/healthz`` is watched while a shard goes down (a minute passes at once: the health clock is
injected) and while the database fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.app import AppContext
from bot.log import NOISY_LIBRARIES, setup_logging
from bot.settings import MetricsSettings
from tests.exts.conftest import click, run, running_bot
from tests.fakediscord import FakeDiscord

#: Shaped like real secrets, so the patterns (not a list of known values) must catch them.
BOT_TOKEN = ".".join(
    ["MTA5ODc2NTQzMjEwOTg3NjU0Mw", "GhIjKl", "abcdefghijklmnopqrstuvwxyz0123456789AB"]
)
ANTHROPIC_KEY = "sk-ant-" + "api03-Zx9_secret-key-material-0123456789abcdefABCDEF"
DB_PASSWORD = "hunter2-db-password"


class Clock:
    """A monotonic clock that a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def observed(app: AppContext) -> AppContext:
    """Another app over ``app``'s database with the metrics endpoint on a free port."""
    settings = app.settings.model_copy(update={"metrics": MetricsSettings(enabled=True, port=0)})
    return AppContext(settings=settings, db=app.db, runtime=app.runtime)


@contextlib.contextmanager
def captured_logs(level: str, log_format: str = "text") -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """``setup_logging`` writing into a buffer, plus a handler someone put on discord.py's
    logger beforehand (it must be redacted too); the logging set-up is put back after."""
    root = logging.getLogger()
    discord_logger = logging.getLogger("discord")
    saved = (root.handlers[:], root.level,
             {name: logging.getLogger(name).level for name in NOISY_LIBRARIES})
    extra_stream = io.StringIO()
    extra = logging.StreamHandler(extra_stream)
    discord_logger.addHandler(extra)
    stream = io.StringIO()
    try:
        setup_logging(level, log_format, stream=stream)  # type: ignore[arg-type]
        yield stream, extra_stream
    finally:
        discord_logger.removeHandler(extra)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, value in saved[2].items():
            logging.getLogger(name).setLevel(value)


async def get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` from the metrics endpoint: (status, body)."""
    async with aiohttp.ClientSession() as session, \
            session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def until(check: Any, what: str, within: float = 30.0) -> Any:
    """Poll ``check()`` (state of the bot, which the fake is not told of) until it is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)
    return result


def value(app: AppContext, name: str, **labels: str) -> float:
    """A sample of ``app``'s registry (0 when absent)."""
    return app.observer.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_discord_py_debug_logs_carry_no_token_key_or_password(app: AppContext) -> None:
    interaction_tokens: list[str] = []
    with captured_logs("DEBUG") as (stream, extra_stream):
        log = logging.getLogger("bot.test")
        log.info("database postgresql+asyncpg://tutor:%s@db.example/tutorbot", DB_PASSWORD)
        log.warning("anthropic refused the key %s", ANTHROPIC_KEY)
        async with FakeDiscord.classroom(token=BOT_TOKEN) as fake:
            async with running_bot(fake, app):
                await app.tutor()
                lesson = await run(fake, "alice", "lesson")
                await click(fake, lesson, "Next ▶", "alice")
                await run(fake, "bob", "lesson", {"name": "no-such-lesson"})
                # /ask defers, then edits its reply through the webhook (a follow-up).
                handle = await fake.slash(fake.user("alice"), "ask",
                                          {"question": "What is a token?"})
                await fake.wait_until(lambda: any(m.embeds for m in handle.messages()),
                                      what="the answer")
                await until(lambda: "command=/ask" in stream.getvalue(), what="/ask's line")
                await fake.reconnect()  # a RESUME payload carries the bot token
            interaction_tokens = [i.token for i in fake.interactions.values()]
            assert len(interaction_tokens) == 4
        log.info("done")
    output = stream.getvalue()
    discord_output = extra_stream.getvalue()
    for secret in (BOT_TOKEN, ANTHROPIC_KEY, DB_PASSWORD, *interaction_tokens):
        # Any sizeable piece of it, as it is or URL-encoded (interaction tokens hold a ':').
        for piece in [secret, quote(secret, safe=""), *re.split(r"[^A-Za-z0-9]", secret)]:
            if len(piece) >= 8:
                assert piece not in output, piece
                assert piece not in discord_output, piece
    # discord.py's DEBUG lines were there: the request URLs and payloads, redacted.
    assert "/interactions/" in output and "/callback" in output
    assert "/webhooks/" in output and "@original" in output
    assert "'token': '[redacted]'" in output or '"token": "[redacted]"' in output
    assert "RESUME" in output
    assert discord_output  # the extra handler on discord.py's logger wrote too
    # One line per interaction: command, guild, learner HMAC, latency, outcome, version.
    lines = [line for line in output.splitlines() if "tutorbot.events: interaction " in line]
    by_command = {line.split("command=")[1].split()[0]: line for line in lines}
    assert {"/lesson", "button:pg", "/ask"} <= set(by_command)
    assert "engine=local" in by_command["/ask"] and "fallback=no_key" in by_command["/ask"]
    ok = [line for line in lines if "command=/lesson" in line and "outcome=ok" in line]
    refused = [line for line in lines if "command=/lesson" in line and "outcome=refused" in line]
    assert len(ok) == 1 and len(refused) == 1
    for field in ("guild=", "learner=", "latency_ms=", "version="):
        assert field in ok[0]
    learner = ok[0].split("learner=")[1].split()[0]
    assert len(learner) == 16 and learner != str(fake.user("alice").id)
    # The same learner has the same HMAC on every line; another learner another one.
    assert f"learner={learner}" in by_command["button:pg"]
    assert f"learner={learner}" not in refused[0]


async def test_json_lines_have_the_fields_as_keys(app: AppContext) -> None:
    with captured_logs("INFO", "json") as (stream, _):
        async with FakeDiscord.classroom() as fake, running_bot(fake, app):
            await run(fake, "alice", "lesson")
            await until(lambda: '"event": "interaction"' in stream.getvalue(),
                                  what="the interaction's line")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(r for r in records if r.get("event") == "interaction")
    assert line["command"] == "/lesson" and line["outcome"] == "ok"
    assert isinstance(line["latency_ms"], int) and isinstance(line["guild"], int)
    assert len(line["learner"]) == 16 and line["version"]
    assert {"ts", "level", "logger", "message"} <= set(line)


async def test_the_metrics_endpoint_counts_what_was_done(app: AppContext) -> None:
    bot_app = observed(app)
    try:
        async with FakeDiscord.classroom() as fake, running_bot(fake, bot_app):
            server = bot_app.observer.server
            assert server is not None and server.port
            lesson = await run(fake, "alice", "lesson")
            await click(fake, lesson, "Next ▶", "alice")
            await run(fake, "bob", "lesson")
            await run(fake, "bob", "lesson", {"name": "no-such-lesson"})
            await until(
                lambda: value(bot_app, "tutorbot_interactions_total", command="/lesson",
                              outcome="refused") == 1, what="the refused /lesson counted")
            await until(
                lambda: value(bot_app, "tutorbot_interactions_total", command="button:pg",
                              outcome="ok") == 1, what="the click counted")
            await until(
                lambda: value(bot_app, "tutorbot_interactions_total", command="/lesson",
                              outcome="ok") == 2, what="both /lesson counted")
            status, body = await get(server.port, "/metrics")
            assert status == 200
            health = await get(server.port, "/healthz")
    finally:
        await bot_app.stop()
    found = samples(body)
    assert found[("tutorbot_interactions_total", (("command", "/lesson"), ("outcome", "ok")))] == 2
    assert found[("tutorbot_interactions_total",
                  (("command", "/lesson"), ("outcome", "refused")))] == 1
    assert found[("tutorbot_interactions_total",
                  (("command", "button:pg"), ("outcome", "ok")))] == 1
    assert found[("tutorbot_interaction_seconds_count", (("command", "/lesson"),))] == 3
    assert ("tutorbot_version_info", (("version", bot_app.observer.version),)) in found
    assert not any(name == "tutorbot_interactions_total" and dict(labels).get("guild")
                   for name, labels in found)
    assert "tutorbot_gateway_latency_seconds" in body
    assert health == (200, '{"status": "ok"}')
    # Another app in the same process has its own registry: nothing of the above.
    other = observed(app)
    assert value(other, "tutorbot_interactions_total", command="/lesson", outcome="ok") == 0


async def test_healthz_is_503_only_after_a_minute_without_a_shard_or_when_the_database_fails(
    app: AppContext, errors_expected: None
) -> None:
    bot_app = observed(app)
    clock = Clock()
    bot_app.observer.health.clock = clock
    health = bot_app.observer.health
    try:
        async with FakeDiscord.classroom(wait_timeout=30) as fake, running_bot(fake, bot_app):
            server = bot_app.observer.server
            assert server is not None
            assert (await get(server.port, "/healthz"))[0] == 200
            # A normal RESUME: the shard is back at once; a long time later all is well.
            await fake.reconnect()
            clock.advance(600)
            assert (await get(server.port, "/healthz"))[0] == 200

            await fake.gateway_outage()
            await until(health.shards_down, what="the shard noticed down")
            clock.advance(59)
            assert (await get(server.port, "/healthz"))[0] == 200  # within the minute
            clock.advance(2)
            status, body = await get(server.port, "/healthz")
            assert status == 503 and "shard 0 has been disconnected for 61 s" in body
            fake.gateway_back()
            await until(lambda: not health.shards_down(), what="the shard back")
            assert (await get(server.port, "/healthz"))[0] == 200

            # The database cannot be read: 503 until it can again.
            async with bot_app.db.sessions.begin() as session:
                await session.execute(text("ALTER TABLE app_state RENAME TO app_state_away"))
            status, body = await get(server.port, "/healthz")
            assert status == 503 and "the database check failed" in body
            async with bot_app.db.sessions.begin() as session:
                await session.execute(text("ALTER TABLE app_state_away RENAME TO app_state"))
            assert (await get(server.port, "/healthz"))[0] == 200
    finally:
        await bot_app.stop()


def _fill_answers(path: Path, guild_id: int, rows: int) -> None:
    """Many learners with a correct answer each in the guild: the leaderboard reads them all,
    and they fill the middle of the file."""
    with sqlite3.connect(path) as conn:
        for i in range(rows):
            learner = 10_000 + i
            conn.execute(
                "INSERT INTO learner (id, display_name, timezone, pseudonym, created_at, "
                "updated_at) VALUES (?, ?, 'UTC', 0, '2026-12-01 00:00:00', "
                "'2026-12-01 00:00:00')", (learner, f"learner {i:05d} " + "x" * 60))
            attempt = conn.execute(
                "INSERT INTO quiz_attempt (learner_id, guild_id, lesson_id, question_ids, seed, "
                "started_at) VALUES (?, ?, NULL, '[\"q\"]', 1, '2026-12-01 00:00:00')",
                (learner, guild_id)).lastrowid
            conn.execute(
                "INSERT INTO quiz_answer (attempt_id, learner_id, guild_id, lesson_id, "
                "question_id, choice_id, correct, answered_at) VALUES (?, ?, ?, 'l1', ?, 'a', 1, "
                "'2026-12-01 00:00:00')", (attempt, learner, guild_id, f"q{i % 50}"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _corrupt_middle_pages(path: Path) -> None:
    page = 4096
    pages = path.stat().st_size // page
    assert pages > 30
    with path.open("r+b") as handle:
        for number in range(pages // 3, 2 * pages // 3):
            handle.seek(number * page)
            handle.write(bytes([0xA5]) * page)


async def test_a_damaged_file_is_one_operator_line_a_friendly_apology_and_a_503(
    app: AppContext, database_url: str, caplog: pytest.LogCaptureFixture, errors_expected: None
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a damaged file is SQLite's")
    path = Path(database_url.split(":///", 1)[1])
    await app.db.dispose()
    bot_app = observed(app)
    replies = []
    try:
        async with FakeDiscord.classroom() as fake:
            _fill_answers(path, fake.guild.id, 3000)
            _corrupt_middle_pages(path)
            async with running_bot(fake, bot_app):
                server = bot_app.observer.server
                assert server is not None
                # The start-up check runs in the background; commands meanwhile hit the damage.
                for name in ("alice", "bob", "alice", "bob"):
                    replies.append(await run(fake, name, "progress"))
                    replies.append(await run(fake, name, "leaderboard"))
                await until(lambda: bot_app.observer.health.database_damage,
                            what="the damage noticed")
                status, body = await get(server.port, "/healthz")
    finally:
        await bot_app.stop()
    assert status == 503 and "the database is damaged" in body
    operator = [r for r in caplog.records if "is DAMAGED" in r.getMessage()]
    assert len(operator) == 1, [r.getMessage() for r in operator]
    message = operator[0].getMessage()
    assert "tutorbot db check" in message and "tutorbot db restore" in message
    assert str(path) in message
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    apologies = [reply for reply in replies if "error id" in reply.text.lower()
                 or "sorry" in reply.text.lower()]
    assert apologies and all(reply.ephemeral for reply in apologies)
    failed = [r.getMessage() for r in caplog.records if "outcome=db_error" in r.getMessage()]
    assert len(failed) == len(apologies) and all("error_id=" in line for line in failed)
    # The learner was shown the error id of the log line.
    ids = {line.split("error_id=")[1].split()[0] for line in failed}
    assert all(any(i in reply.text for i in ids) for reply in apologies)
    assert value(bot_app, "tutorbot_database_errors_total", kind="damaged") >= 1


async def test_the_heartbeat_is_written_while_the_bot_runs_and_removed_when_it_stops(
    app: AppContext,
) -> None:
    async def beats() -> list[Any]:
        async with app.db.sessions() as session:
            rows = await session.execute(
                text("SELECT key, value FROM app_state WHERE key LIKE 'heartbeat:%'"))
            return list(rows)

    bot_app = observed(app)
    try:
        async with FakeDiscord.classroom() as fake, running_bot(fake, bot_app):
            rows: list[Any] = []
            for _ in range(200):  # the first beat is written as the bot starts
                rows = await beats()
                if rows:
                    break
                await asyncio.sleep(0.05)
            assert len(rows) == 1
            beat = json.loads(rows[0][1])
            assert beat["pid"] and beat["at"]
    finally:
        await bot_app.stop()
    assert await beats() == []
