"""A cancelled background loop ends, even when the cancellation was swallowed on its way.

A full CI run once hung for good in a test's teardown: closing the event loop cancelled the job
runner's leadership task, the cancellation was lost inside the loop body, and the task went on
polling forever. Database drivers turn a cancellation mid-query into an ordinary error (asyncpg:
"connection was closed in the middle of operation"), which a loop's ``except Exception`` then
catches; Python 3.11's ``asyncio.wait_for`` can also drop one that arrives as its timeout fires.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.runner import JobRunner
from bot.lifecycle import pause, raise_if_cancelled


class DriverLikeLeadership:
    """Leadership whose check, cancelled mid-query, raises what a driver raises: an ordinary error."""

    description = "a database whose driver turns cancellations into errors"

    def __init__(self) -> None:
        self.checking = asyncio.Event()
        self.released = False

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        self.checking.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ConnectionError("connection was closed in the middle of operation") from None
        return True

    async def release(self) -> None:
        self.released = True


async def test_a_cancelled_job_runner_ends_though_its_driver_turned_the_cancel_into_an_error() -> None:
    leadership = DriverLikeLeadership()
    runner = JobRunner(leadership, check_seconds=0.01)
    await runner.start()
    await asyncio.wait_for(leadership.checking.wait(), 5)
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "jobs-leadership")
    task.cancel()
    # Before the fix the loop logged the error, stepped down and polled on forever.
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done and task.cancelled()
    await runner.stop()  # still stops cleanly afterwards: steps down, gives the lead up
    assert runner.scheduler is None and leadership.released


async def test_a_swallowed_cancellation_is_raised_again() -> None:
    swallowed = asyncio.Event()

    async def loop() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                swallowed.set()  # as a careless library would
            raise_if_cancelled()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert swallowed.is_set() and task in done and task.cancelled()


async def test_pause_ends_early_when_stopping_and_passes_a_cancellation_on() -> None:
    stopping = asyncio.Event()
    waiting = asyncio.create_task(pause(stopping, 3600))
    await asyncio.sleep(0)
    stopping.set()
    await asyncio.wait_for(waiting, 5)  # returned at once, no error

    stopping.clear()
    cancelled = asyncio.create_task(pause(stopping, 3600))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(cancelled, 5)
