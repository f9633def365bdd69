"""The real tutor bot (real discord.py, real services, real database) against the fake Discord.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture). After each test the fake is
checked: it refused nothing (so every message, embed, button and modal was within Discord's
limits) and every message the bot sent or edited had mentions disabled. A test fails, too, when
the bot or discord.py logged an error, unless it asks for ``errors_expected``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

# Imported here, at collection: the tutor loads in a thread when each bot starts, and a cold
# import of the anthropic SDK there (seconds under load) holds the import lock that the bot's
# own start-up then waits on.
import bot.qa.llm  # noqa: F401
from bot.app import AppContext
from bot.bot import TutorBot, create_bot
from bot.content.model import Course
from bot.db.engine import open_database
from bot.qa.retrieval import Retriever
from bot.runtime import CourseRuntime
from bot.settings import Settings

# ``tests.fakediscord`` needs the repository root on sys.path whatever pytest's import mode.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakediscord import FakeDiscord, FakeMessage, RunningClient, run_client  # noqa: E402

NO_PINGS = {"parse": []}


def pings_one_role(message: FakeMessage) -> bool:
    """A daily quiz with a ping role: ``allowed_mentions`` names that role alone, and the
    message pings exactly it (no user, no @everyone)."""
    allowed = message.allowed_mentions or {}
    roles = allowed.get("roles") or []
    return (
        set(allowed) == {"parse", "roles"}
        and allowed["parse"] == []
        and len(roles) == 1
        and message.mention_role_ids == [int(roles[0])]
    )


def assert_quiet_and_within_limits(fake: FakeDiscord) -> None:
    """No request refused; every message (and every version of it) pings nobody (a daily
    quiz may ping the one role its schedule names)."""
    fake.assert_no_rejections()
    for message in fake.messages.values():
        if message.author is not fake.bot_user or message.loading:
            continue
        if not pings_one_role(message):
            assert message.allowed_mentions == NO_PINGS, f"mentions not disabled on {message!r}"
            assert not message.mention_role_ids, f"{message!r} pings a role"
        assert not message.mentions and not message.mention_everyone
        for version in message.versions:
            assert not version.get("mentions") and not version.get("mention_everyone")


@pytest.fixture(scope="session")
def tutor_index(request: pytest.FixtureRequest, course: Course) -> Path:
    """A folder holding the fixture course's /ask index, built once (kept across runs).

    Every bot loads its tutor at start-up, and embedding the course takes tens of seconds on
    two cores: built once here, copied into each test's data folder. The file is keyed by a
    hash of what was embedded, so a changed course or model is never misread.
    """
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        folder = Path(cache.mkdir("tutor-index"))
    else:  # -p no:cacheprovider
        folder = request.getfixturevalue("tmp_path_factory").mktemp("tutor-index")
    Retriever.load(course, folder)
    return folder


@pytest.fixture(autouse=True)
def tutor_index_in_data_dir(settings: Settings, tutor_index: Path) -> None:
    """The prebuilt /ask index in the test's data folder, where the bot's tutor looks.

    That is ``data_dir/cache/ask`` (:meth:`bot.services.tutor.TutorService.load`): a copy
    anywhere else leaves every bot embedding the course again at start-up, seconds of CPU per
    test that also hold up its connection.
    """
    shutil.copytree(tutor_index, settings.paths.data_dir / "cache" / "ask", dirs_exist_ok=True)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The classroom: guild "GenAI course", learners alice and bob, mentor mia, dora (no guild)."""
    async with FakeDiscord.classroom() as started:
        yield started
        assert_quiet_and_within_limits(started)


@pytest.fixture(autouse=True)
def no_errors_logged(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Fail when discord.py or the bot logged an error (a crash in a button, an unexpected bug)."""
    caplog.set_level(logging.INFO)
    yield
    if "errors_expected" in request.fixturenames:
        return
    errors = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.split(".")[0] in ("discord", "bot") and r.levelno >= logging.ERROR
    ]
    assert not errors, "errors were logged:\n" + "\n".join(errors)


@pytest.fixture
def errors_expected() -> None:
    """Marks a test in which an error is logged on purpose."""


AppFactory = Callable[[], Awaitable[AppContext]]


@pytest.fixture
async def make_app(
    database_url: str, course: Course, settings: Settings
) -> AsyncIterator[AppFactory]:
    """Fresh application contexts over the same database: one per bot "process"."""
    made: list[AppContext] = []

    async def make() -> AppContext:
        db = await open_database(database_url)
        app = AppContext(settings=settings, db=db, runtime=CourseRuntime.build(course, settings))
        made.append(app)
        return app

    yield make
    for app in made:
        await app.close()


@pytest.fixture
async def app(make_app: AppFactory) -> AppContext:
    """The application context of the first bot."""
    return await make_app()


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, app: AppContext) -> AsyncIterator[RunningClient]:
    """A tutor bot over ``app``, connected to ``fake`` until the block ends."""
    bot = create_bot(app, guild_ready_timeout=0.05)
    async with run_client(fake, bot) as running:
        yield running


@pytest.fixture
async def tutor(fake: FakeDiscord, app: AppContext) -> AsyncIterator[TutorBot]:
    """The tutor bot, running."""
    async with running_bot(fake, app) as running:
        assert isinstance(running.client, TutorBot)
        yield running.client


async def count(app: AppContext, model: Any, *where: Any) -> int:
    """Rows of ``model`` matching ``where``."""
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def run(
    fake: FakeDiscord,
    user_name: str,
    command: str,
    options: dict[str, Any] | None = None,
    **where: Any,
) -> FakeMessage:
    """``user_name`` runs ``/command``; the bot's first message for it."""
    handle = await fake.slash(fake.user(user_name), command, options, **where)
    return await handle.response()


async def click(fake: FakeDiscord, message: FakeMessage, label: str, user_name: str) -> FakeMessage:
    """``user_name`` clicks the button labelled ``label``; the bot's first message for it."""
    handle = await fake.click(message, label=label, user=fake.user(user_name))
    return await handle.response()
