"""Start-up errors name the database (never its password); timestamps stay timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.db.engine import open_database
from bot.db.models import Learner
from bot.errors import ConfigError, DatabaseUnavailableError


async def test_unreachable_postgres_gives_a_clear_error_without_the_password() -> None:
    url = "postgresql://tutor:s3cret-pw@127.0.0.1:1/tutorbot"  # nothing listens on port 1
    with pytest.raises(DatabaseUnavailableError) as caught:
        await open_database(url)
    message = str(caught.value)
    assert "127.0.0.1:1/tutorbot" in message and "refused" in message
    assert "s3cret-pw" not in message


async def test_a_corrupt_sqlite_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseUnavailableError, match="not a SQLite database or is corrupt"):
        await open_database(f"sqlite:///{path}")


async def test_an_unsupported_or_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL"):
        await open_database("mysql://root@localhost/x")
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL"):
        await open_database("not a url")
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL") as caught:
        await open_database("postgresql://tutor:s3cret-pw@db.example:port/tutorbot")
    assert "s3cret-pw" not in str(caught.value)


async def test_an_uncreatable_sqlite_folder_is_a_configuration_error(tmp_path: Path) -> None:
    # A file where a parent folder should be fails for every user, root included.
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ConfigError, match=r"Cannot create the folder .*blocker/data"):
        await open_database(f"sqlite:///{blocker / 'data' / 'tutorbot.sqlite3'}")


async def test_timestamps_come_back_timezone_aware(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
        async with db.sessions.begin() as session:
            session.add(Learner(id=2**62, display_name="big id", created_at=moment,
                                updated_at=moment))
        async with db.sessions() as session:
            learner = await session.get(Learner, 2**62)
            assert learner is not None
            assert learner.created_at == moment
            assert learner.created_at.utcoffset() == timedelta(0)
            assert learner.created_at.tzinfo is not None
            assert learner.created_at.astimezone(UTC).hour == 23
    finally:
        await db.dispose()
