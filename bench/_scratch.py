"""A scratch PostgreSQL database for one benchmark run: created empty, dropped afterwards.

The benchmarks that measure PostgreSQL (``daily_answers.py``, ``record_answer.py``,
``daily_e2e.py``) each run on a database of their own, so a run never sees another run's rows
and leaves nothing behind. The database is created from ``template0`` (empty: the bot's own
migrations build the schema when the benchmark opens it) under a random name, and dropped with
``FORCE`` even when the run fails, closing any connection the run left open.

A server that cannot be reached is not a failure here: :class:`PostgresUnreachableError` says
so, and each benchmark decides (skip, or fail under ``--require-postgres``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["PostgresUnreachableError", "scratch_postgres"]


class PostgresUnreachableError(Exception):
    """The PostgreSQL server of the admin URL could not be reached; no database was created."""

    def __init__(self, admin_url: str, cause: BaseException) -> None:
        super().__init__(f"cannot connect to {admin_url} ({cause})")


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database on ``admin_url``'s server; drop it on exit.

    ``admin_url`` is a libpq URL of any database the user may connect to (``.../test``); the
    yielded URL is the same with the scratch database's name in place of that one. Raises
    :class:`PostgresUnreachableError` before yielding when the server cannot be reached.
    """
    import asyncpg

    name = f"tutorbot_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise PostgresUnreachableError(admin_url, exc) from exc
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
