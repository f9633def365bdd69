"""Stopping the app while interactions run: they finish, or get a clear message; none hangs.

The bot runs in process against the fake Discord; another real process holds the SQLite write
lock so that interactions are genuinely in flight (deferred, waiting) when ``app.stop()`` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import AppContext
from bot.bot import ABANDONED
from bot.content.model import Course
from bot.db.engine import open_database
from bot.db.models import SnippetView
from bot.runtime import CourseRuntime
from bot.settings import Settings
from tests.db.test_sqlite_lock import LockHolder
from tests.exts.conftest import run, running_bot
from tests.fakediscord import FakeDiscord


@pytest.fixture
async def sqlite_app(
    tmp_path: Path, course: Course, settings: Settings
) -> AsyncIterator[tuple[AppContext, Path]]:
    path = tmp_path / "shutdown.sqlite3"
    db = await open_database(f"sqlite+aiosqlite:///{path}")
    app = AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
    yield app, path
    await app.stop(within_s=1.0)


async def test_work_still_running_at_the_bound_is_told_clearly(
    fake: FakeDiscord, sqlite_app: tuple[AppContext, Path]
) -> None:
    app, path = sqlite_app
    async with running_bot(fake, app):
        page = await run(fake, "alice", "lesson")
        holder = await LockHolder.take(path)
        try:
            command = await fake.slash(fake.user("bob"), "lesson")
            click = await fake.click(page, label="Next \u25b6", user=fake.user("alice"))
            # Within 1.5 s both are deferred (the click waits behind the command for the one
            # connection); the lock outlasts the 2.5 s bound, so both are cancelled.
            await asyncio.sleep(0.3)  # both reached the bot: they are in flight
            await app.stop(within_s=2.5)
            # The command's "thinking" reply is replaced; the button gets a private follow-up.
            told = await command.response()
            assert told.content == ABANDONED
            followups = [m for m in fake.messages.values() if m.content == ABANDONED]
            assert len(followups) == 2 and all(m.ephemeral for m in followups
                                               if m is not told)
            # After the stop, a new interaction is refused at once, politely and privately.
            late = await run(fake, "alice", "progress")
            assert late.ephemeral and "restarting" in late.content
            assert (await click.response()).content == ABANDONED
        finally:
            await holder.release()
    assert page.embed["title"] and not page.versions  # alice's page was not half-edited
    fresh = await open_database(f"sqlite+aiosqlite:///{path}")
    try:
        async with fresh.sessions() as session:
            bob = fake.user("bob").id
            views = await session.scalar(
                select(func.count()).select_from(SnippetView).where(SnippetView.learner_id == bob)
            )
        assert views == 0  # the cancelled transaction wrote nothing
    finally:
        await fresh.dispose()
