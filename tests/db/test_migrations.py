"""Migrations: one head, models match the migrations, upgrade and downgrade on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.base import Base
from bot.db.engine import database_from_url, open_database
from bot.db.migrate import current_revision, downgrade_database, head_revisions, upgrade_database


def test_there_is_exactly_one_head() -> None:
    assert len(head_revisions()) == 1


async def test_models_match_the_migrations(empty_database_url: str) -> None:
    db = await open_database(empty_database_url)
    try:
        def diff(connection: Any) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        async with db.engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert differences == [], f"models and migrations differ: {differences}"
    finally:
        await db.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    db = database_from_url(empty_database_url)
    try:
        await upgrade_database(db.engine)
        assert await current_revision(db.engine) == head_revisions()[0]

        def tables(connection: Any) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with db.engine.connect() as connection:
            assert {"learner", "quiz_answer", "feedback"} <= await connection.run_sync(tables)
        await downgrade_database(db.engine, "base")
        async with db.engine.connect() as connection:
            assert await connection.run_sync(tables) <= {"alembic_version"}
        await upgrade_database(db.engine)
        assert await current_revision(db.engine) == head_revisions()[0]
    finally:
        await db.dispose()


def test_processes_starting_together_migrate_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Several processes upgrading the same database at the same moment all succeed."""
    env = {**os.environ, "TUTORBOT_DATABASE__URL": empty_database_url,
           "TUTORBOT_PATHS__DATA_DIR": str(tmp_path)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "bot", "db", "upgrade"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert f"at revision {head_revisions()[0]}" in out
