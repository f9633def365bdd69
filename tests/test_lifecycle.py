"""AppContext.start()/stop(): workers in order, reverse stop, drain first, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import AppContext
from bot.content.model import Course
from bot.db.engine import open_database
from bot.lifecycle import Admission, ShuttingDownError, Worker
from bot.runtime import CourseRuntime
from bot.settings import Settings


class Recorder:
    """A worker that writes what happens to it into a shared journal."""

    def __init__(self, name: str, journal: list[str], *, stop_takes: float = 0.0,
                 fail_start: bool = False, fail_stop: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.stop_takes = stop_takes
        self.fail_start = fail_start
        self.fail_stop = fail_stop

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        try:
            await asyncio.sleep(self.stop_takes)
        except asyncio.CancelledError:
            self.journal.append(f"cancelled {self.name}")
            raise
        if self.fail_stop:
            raise RuntimeError(f"{self.name} broke while stopping")
        self.journal.append(f"stop {self.name}")


@pytest.fixture
async def sqlite_app(tmp_path: Path, course: Course, settings: Settings) -> AsyncIterator[AppContext]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'life.sqlite3'}")
    app = AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
    yield app
    await app.stop(within_s=1.0)


def test_a_worker_satisfies_the_protocol() -> None:
    assert isinstance(Recorder("x", []), Worker)


async def test_workers_start_in_order_and_stop_in_reverse(sqlite_app: AppContext) -> None:
    journal: list[str] = []
    sqlite_app.register_worker(Recorder("runner", journal))
    sqlite_app.register_worker(Recorder("metrics", journal))
    await sqlite_app.start()
    late = Recorder("late", journal)
    sqlite_app.register_worker(late)  # after start(): started at once
    for _ in range(50):
        if "start late" in journal:
            break
        await asyncio.sleep(0.01)
    assert journal == ["start runner", "start metrics", "start late"]
    await sqlite_app.stop()
    assert journal[3:] == ["stop late", "stop metrics", "stop runner"]
    assert [w.name for w in sqlite_app.workers] == ["runner", "metrics", "late"]


async def test_stop_closes_the_database_and_refuses_new_work(sqlite_app: AppContext) -> None:
    await sqlite_app.start()
    await sqlite_app.stop()
    with pytest.raises(ShuttingDownError):
        async with sqlite_app.admission.admit():
            pass
    with pytest.raises(RuntimeError):
        sqlite_app.register_worker(Recorder("too late", []))
    # The engine was disposed: the pool is empty (a new statement would open a new connection).
    assert sqlite_app.db.engine.pool.checkedout() == 0
    await sqlite_app.stop()  # a second stop does nothing


async def test_interactions_in_flight_finish_before_workers_stop(sqlite_app: AppContext) -> None:
    journal: list[str] = []
    sqlite_app.register_worker(Recorder("runner", journal))
    await sqlite_app.start()
    release = asyncio.Event()

    async def interaction() -> None:
        async with sqlite_app.admission.admit():
            await release.wait()
            async with sqlite_app.db.sessions.begin() as session:
                await session.execute(text("SELECT 1"))
            journal.append("interaction done")

    running = asyncio.create_task(interaction())
    await asyncio.sleep(0)
    stopping = asyncio.create_task(sqlite_app.stop(within_s=5.0))
    await asyncio.sleep(0.05)
    assert sqlite_app.admission.closing and not stopping.done()
    with pytest.raises(ShuttingDownError, match="restarting"):
        sqlite_app.admission.enter()
    release.set()
    await asyncio.wait_for(stopping, timeout=5.0)
    await running
    assert journal == ["start runner", "interaction done", "stop runner"]


async def test_stop_is_bounded_and_survives_broken_workers(sqlite_app: AppContext) -> None:
    journal: list[str] = []
    sqlite_app.register_worker(Recorder("broken", journal, fail_stop=True))
    sqlite_app.register_worker(Recorder("slow", journal, stop_takes=30.0))
    await sqlite_app.start()
    hung = asyncio.Event()

    async def stuck_interaction() -> None:
        async with sqlite_app.admission.admit():
            await hung.wait()

    task = asyncio.create_task(stuck_interaction())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await sqlite_app.stop(within_s=0.6)
    took = loop.time() - began
    # The stuck interaction used the whole budget; the slow worker got the floor (0.5 s).
    assert took < 2.0
    assert journal == ["start broken", "start slow", "cancelled slow"]
    task.cancel()


async def test_a_worker_that_fails_to_start_stops_those_started(sqlite_app: AppContext) -> None:
    journal: list[str] = []
    sqlite_app.register_worker(Recorder("first", journal))
    sqlite_app.register_worker(Recorder("second", journal, fail_start=True))
    with pytest.raises(RuntimeError, match="second cannot start"):
        await sqlite_app.start()
    assert journal == ["start first", "stop first"]


async def test_drain_waits_only_for_admitted_work() -> None:
    admission = Admission()
    assert await admission.drain(0.01) is True
    other = Admission()
    other.enter()
    assert await other.drain(0.05) is False
    other.leave()
    assert other.in_flight == 0
