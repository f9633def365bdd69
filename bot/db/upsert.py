"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for the two databases we support."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


@lru_cache(maxsize=64)
def _statement(dialect: str, table: Table) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


async def insert_ignore(session: AsyncSession, model: Any, **values: Any) -> bool:
    """Insert one row unless it would violate a unique key; ``True`` if it was inserted.

    PostgreSQL and SQLite (3.24+) both implement ``ON CONFLICT``; two processes racing on the
    same key both succeed and exactly one sees ``True``. The statement is built once per table
    and runs as plain Core on the session's connection (same transaction), which keeps it off
    the ORM's slower bulk-insert path: this is on the hot path of every quiz answer.
    """
    connection = await session.connection()
    statement = _statement(connection.dialect.name, model.__table__)
    result = await connection.execute(statement, values)
    return cast(CursorResult[Any], result).rowcount > 0


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, table: Table, update: tuple[str, ...], returning: tuple[str, ...]
) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Any = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}
    )
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    return statement


async def upsert(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any],
    *,
    update: tuple[str, ...],
    returning: tuple[str, ...] = (),
) -> Any:
    """Insert a row, or on a primary-key conflict update the ``update`` columns, in one statement.

    Returns the ``returning`` columns of the resulting row (a Row), or ``None`` without them.
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` works on PostgreSQL and SQLite 3.35+.
    """
    connection = await session.connection()
    statement = _upsert_statement(connection.dialect.name, model.__table__, update, returning)
    result = await connection.execute(statement, values)
    return result.first() if returning else None
