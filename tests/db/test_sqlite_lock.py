"""Another process holding SQLite's write lock never freezes the event loop.

A real second process takes the lock (``BEGIN IMMEDIATE``) on the same file; the bot's unit of
work waits for it with ``asyncio.sleep`` back-off, tells its "about to wait" callback once, and
either succeeds when the lock is released or gives up at its deadline with nothing written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db.engine import Database, open_database
from bot.db.sqlite_inline import lock_wait
from bot.errors import DatabaseBusyError

HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()  # hold the lock until the test says so (or closes the pipe)
connection.execute("COMMIT")
print("released", flush=True)
"""


class LockHolder:
    """A separate Python process that holds the database's write lock until released."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def take(cls, path: Path) -> LockHolder:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLDER, str(path),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line == b"locked\n"
        return cls(process)

    async def release(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.process.returncode is None:
            self.process.stdin.write(b"go\n")
            await self.process.stdin.drain()
            assert await self.process.stdout.readline() == b"released\n"
            await self.process.wait()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "locked.sqlite3"
    db = await open_database(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, who TEXT)")
    yield db, path
    await db.dispose()


async def _insert(db: Database, who: str) -> None:
    async with db.sessions.begin() as session:
        await session.execute(text("INSERT INTO probe (who) VALUES (:who)"), {"who": who})


def _rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT who FROM probe ORDER BY id")]


async def test_a_write_waits_for_another_process_without_freezing_the_loop(
    sqlite_db: tuple[Database, Path],
) -> None:
    db, path = sqlite_db
    holder = await LockHolder.take(path)
    told: list[str] = []
    waiting = asyncio.Event()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def on_wait() -> None:
        told.append("about to wait")
        waiting.set()

    async def writer() -> None:
        with lock_wait(30.0, on_wait):
            await _insert(db, "first")

    beat = asyncio.create_task(ticker())
    write = asyncio.create_task(writer())
    # While the other process holds the lock, the loop keeps running other work...
    await asyncio.wait_for(waiting.wait(), timeout=10)
    ticks_at_wait = ticks
    await asyncio.sleep(0.5)
    assert not write.done()
    assert ticks - ticks_at_wait >= 10, "the event loop was blocked while waiting for the lock"
    # ...and a second unit of work queues for the one connection instead of opening another.
    second = asyncio.create_task(_insert(db, "second"))
    await asyncio.sleep(0.1)
    assert not second.done()
    await holder.release()
    await asyncio.wait_for(asyncio.gather(write, second), timeout=10)
    beat.cancel()
    assert told == ["about to wait"]  # once, before the first retry
    assert sorted(_rows(path)) == ["first", "second"]


async def test_past_its_deadline_a_unit_of_work_gives_up_with_nothing_written(
    sqlite_db: tuple[Database, Path],
) -> None:
    db, path = sqlite_db
    holder = await LockHolder.take(path)
    try:
        with lock_wait(0.3), pytest.raises(DatabaseBusyError, match="nothing was saved"):
            await _insert(db, "too late")
    finally:
        await holder.release()
    assert _rows(path) == []
    # The connection is still good once the lock is free.
    await _insert(db, "after")
    assert _rows(path) == ["after"]


async def test_without_a_lock_nothing_waits_or_calls_back(
    sqlite_db: tuple[Database, Path],
) -> None:
    db, path = sqlite_db
    told: list[str] = []

    async def on_wait() -> None:
        told.append("waited")

    with lock_wait(5.0, on_wait):
        await _insert(db, "free")
    assert told == [] and _rows(path) == ["free"]
