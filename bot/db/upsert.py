"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for the two databases we support."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(session: AsyncSession, table: Any, **values: Any) -> bool:
    """Insert one row unless it would violate a unique key; ``True`` if it was inserted.

    PostgreSQL and SQLite (3.24+) both implement ``ON CONFLICT``; SQLAlchemy exposes it through
    each dialect's own ``insert``. Two processes racing on the same key both succeed, and exactly
    one of them sees ``True``.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return cast(CursorResult[Any], result).rowcount > 0
