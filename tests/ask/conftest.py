"""Fixtures for /ask: the fake Messages API, settings pointing at it, the retriever, the service.

Deadlines are short (3 s, stall 1 s) so failure tests finish quickly, yet long enough that a
busy machine does not turn one failure into another; nothing here asserts a duration closely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anthropic
import pytest
from fakeanthropic import TEST_API_KEY, FakeMessagesAPI

from bot.content.model import Course
from bot.db.engine import Database, open_database
from bot.qa.llm import TutorLLM, make_client
from bot.qa.retrieval import Retriever
from bot.services.tutor import TutorService
from bot.settings import Settings, load_settings

FIXTURE_LESSONS = Path(__file__).parent.parent / "fixtures" / "lessons"

SettingsFactory = Callable[..., Settings]


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeMessagesAPI]:
    """A running fake Messages API on 127.0.0.1."""
    async with FakeMessagesAPI() as api:
        yield api


@pytest.fixture
def make_settings(tmp_path: Path, fake_api: FakeMessagesAPI) -> SettingsFactory:
    """Settings for the fake API: ``make_settings(key=None, **ask_settings)``."""
    config = tmp_path / "config.toml"
    config.write_text("# empty: defaults only\n")

    def make(*, key: str | None = TEST_API_KEY, base_url: str | None = None, **ask: object) -> Settings:
        environ = {
            "TUTORBOT_PATHS__DATA_DIR": str(tmp_path / "data"),
            "TUTORBOT_PATHS__LESSONS_DIR": str(FIXTURE_LESSONS),
            "TUTORBOT_ASK__TIMEOUT_S": "3",
            "TUTORBOT_ASK__STALL_S": "1.0",
            "ANTHROPIC_BASE_URL": base_url or fake_api.base_url,
        }
        for name, value in ask.items():
            environ[f"TUTORBOT_ASK__{name.upper()}"] = str(value)
        if key:
            environ["ANTHROPIC_API_KEY"] = key
        return load_settings(config, environ=environ)

    return make


@pytest.fixture(scope="session")
def ask_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder shared by the whole run, so the course is embedded only once.

    Its ``cache/ask/`` holds the course vectors (where ``TutorService.load`` looks); databases
    live elsewhere, one per test.
    """
    return tmp_path_factory.mktemp("ask-data")


@pytest.fixture(scope="session")
def retriever(course: Course, ask_data_dir: Path) -> Retriever:
    """The retriever over the fixture course."""
    return Retriever.load(course, ask_data_dir / "cache" / "ask")


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database (for tests whose subject is not the database)."""
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'ask.sqlite3'}")
    yield database
    await database.dispose()


@pytest.fixture
async def make_tutor(
    make_settings: SettingsFactory, retriever: Retriever
) -> AsyncIterator[Callable[..., TutorService]]:
    """``make_tutor(**settings)``: a TutorService on the fake API (``key=None``: no client)."""
    made: list[TutorService] = []

    def make(**options: object) -> TutorService:
        settings = make_settings(**options)
        tutor = TutorService(settings, retriever, make_client(settings))
        made.append(tutor)
        return tutor

    yield make
    for tutor in made:
        await tutor.close()


@pytest.fixture
async def make_llm(make_settings: SettingsFactory) -> AsyncIterator[Callable[..., TutorLLM]]:
    """``make_llm(**settings)``: a TutorLLM with a real client on the fake API (closed after)."""
    clients: list[anthropic.AsyncAnthropic] = []

    def make(**options: object) -> TutorLLM:
        settings = make_settings(**options)
        client = make_client(settings)
        assert client is not None
        clients.append(client)
        return TutorLLM(client, stall_s=settings.ask.stall_s)

    yield make
    for client in clients:
        await client.close()
