"""Alembic environment: runs on SQLite (batch mode) and PostgreSQL (under an advisory lock).

Used two ways: from :mod:`bot.db.migrate` (every entry point; a connection is passed in
``config.attributes``), or by the ``alembic`` command with ``-x url=...`` or the settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text

import bot.db.models  # noqa: F401  (registers every table)
from bot.db.base import Base

#: Arbitrary, fixed key for ``pg_advisory_xact_lock``: "tutorbot" as a number.
MIGRATION_LOCK_KEY = 0x7475746F72626F74

target_metadata = Base.metadata


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    from bot.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _standalone_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    from bot.settings import load_settings

    return load_settings().database_url


if context.is_offline_mode():
    context.configure(url=_standalone_url(), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_standalone(_standalone_url()))
