"""`tutorbot run` as a real process against the fake Discord: SIGTERM drains, then exits 0.

A burst of quiz answers is in flight (held up by another process's SQLite write lock) when the
bot gets SIGTERM. Every answer the bot acknowledged must be in the database exactly once, an
interaction sent after the signal gets a short "restarting" reply, and the process exits 0
within the configured bound.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from bot.ui import custom_ids as ids
from tests.db.test_sqlite_lock import LockHolder
from tests.fakediscord import FakeDiscord, FakeMessage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"
STOP_TIMEOUT_S = 4.0
LEARNERS = [f"learner{n}" for n in range(8)]
VERDICTS = ("\u2705 Right!", "\u274c Not quite")


async def _start_bot(fake: FakeDiscord, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(
        DISCORD_TOKEN=fake.token,
        TUTORBOT_CONFIG="",
        TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
        TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES),
        TUTORBOT_DISCORD__API_BASE=fake.api_base,
        TUTORBOT_DISCORD__GATEWAY_URL=fake.gateway_url,
        TUTORBOT_ASK__ENGINE="local",
        TUTORBOT_LIFECYCLE__STOP_TIMEOUT_S=str(STOP_TIMEOUT_S),
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )


async def _wait_for_line(process: asyncio.subprocess.Process, text: str, log: list[str]) -> None:
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=60)).decode()
        assert line, f"the bot exited before logging {text!r}:\n" + "".join(log)
        log.append(line)
        if text in line:
            return


def _choice_button(message: FakeMessage) -> tuple[str, str] | None:
    """(custom id, question id) of a choice on the question shown, if it has choices."""
    for button in message.buttons:
        key = ids.decode(button["custom_id"])
        if isinstance(key, ids.Answer):
            return button["custom_id"], key.question_id
    return None


async def _response(handle: Any) -> FakeMessage | None:
    try:
        message: FakeMessage = await handle.response()
    except Exception:
        return None
    return message


async def test_sigterm_in_a_burst_of_answers_loses_nothing_and_exits_0(tmp_path: Path) -> None:
    async with FakeDiscord.classroom() as fake:
        guild = next(iter(fake.guilds.values()))
        for name in LEARNERS:
            fake.add_member(guild, fake.add_user(name))
        bot = await _start_bot(fake, tmp_path)
        log: list[str] = []
        try:
            await _wait_for_line(bot, "loaded extensions", log)
            for _ in range(600):  # start-up on a loaded machine can take a while
                if fake.live_sessions() or bot.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            if not fake.live_sessions():
                rest = (await bot.stderr.read()).decode() if bot.stderr is not None else ""
                raise AssertionError("the bot did not connect:\n" + "".join(log) + rest)
            # Every learner opens a quiz until its first question has buttons (the order is
            # random and one fixture question is numeric), so all of them answer in the burst.
            burst: list[tuple[str, str, str, FakeMessage]] = []
            for name in LEARNERS:
                for _try in range(30):
                    handle = await fake.slash(fake.user(name), "quiz",
                                              {"lesson": "fx-genai", "questions": 3})
                    question = await handle.response()
                    choice = _choice_button(question)
                    if choice is not None:
                        burst.append((name, choice[0], choice[1], question))
                        break
            assert len(burst) == len(LEARNERS), "a learner never got a question with buttons"

            database = tmp_path / "data" / "tutorbot.sqlite3"
            holder = await LockHolder.take(database)
            clicks = [
                await fake.click(message, custom_id, user=fake.user(name))
                for name, custom_id, _question, message in burst
            ]
            responses = [asyncio.ensure_future(_response(c)) for c in clicks]
            await asyncio.sleep(0.3)  # the answers are in flight, waiting for the lock
            loop = asyncio.get_running_loop()
            signalled = loop.time()
            bot.send_signal(signal.SIGTERM)
            await _wait_for_line(bot, "SIGTERM: stopping", log)
            # A new interaction during the drain is refused, privately and politely.
            late = await fake.slash(fake.user("alice"), "progress")
            refusal = await late.response()
            assert refusal.ephemeral and "restarting" in refusal.content
            await asyncio.sleep(0.5)
            await holder.release()
            status = await asyncio.wait_for(bot.wait(), timeout=STOP_TIMEOUT_S + 10)
            took = loop.time() - signalled
            replies = await asyncio.gather(*responses)
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        assert bot.stderr is not None
        log.append((await bot.stderr.read()).decode())
        assert status == 0, "".join(log)
        assert took < STOP_TIMEOUT_S + 3, f"stopping took {took:.1f} s\n" + "".join(log)
        acknowledged = [
            (name, question)
            for (name, _cid, question, _m), reply in zip(burst, replies, strict=True)
            if reply is not None and reply.embeds and reply.embeds[0].get("title") in VERDICTS
        ]
        assert acknowledged, "no answer was acknowledged: " + "".join(log)

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT l.display_name, a.question_id, count(*) FROM quiz_answer a "
            "JOIN quiz_attempt t ON t.id = a.attempt_id JOIN learner l ON l.id = t.learner_id "
            "GROUP BY t.id, a.question_id"
        ).fetchall()
    stored = {(name, question): n for name, question, n in rows}
    for name, question in acknowledged:
        assert stored.get((name, question)) == 1, f"{name}'s answer to {question}: {stored}"
    assert all(n == 1 for n in stored.values())  # none doubled
