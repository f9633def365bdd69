"""Multi-row statements straight to the driver, for SQLite and PostgreSQL.

The answer batch (:mod:`bot.services.answer_batch`) and the memory-card update
(:mod:`bot.services.memory`) write hundreds of rows per commit. SQLAlchemy's per-row parameter
processing (a few datetimes per row) was most of their cost, so values are converted once with
the column types' own bind processors and the statement text is cached: per (table, rows) on
SQLite, and on PostgreSQL one text for any number of rows (one array per column through
``unnest``, so asyncpg prepares one statement whatever the batch size).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import Boolean, Date
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.base import UTCDateTime

#: Rows per statement on SQLite (its limit on bound variables is far above 500 × our widths).
MAX_ROWS = 500


class MultiRow:
    """Values as the driver takes them, and ``INSERT … VALUES (…), (…)`` for either dialect."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        #: asyncpg (PostgreSQL) numbers its parameters; SQLite takes ``?``.
        self.numbered = dialect.paramstyle == "numeric_dollar"
        # dialect_impl: the whole chain (aware → naive UTC → SQLite's text format).
        self._time = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        self._bool = Boolean().bind_processor(dialect)
        self._date = Date().dialect_impl(dialect).bind_processor(dialect)
        self._stamps: dict[datetime, Any] = {}

    def timestamp(self, moment: datetime) -> Any:
        """A timestamp as the driver takes it (text on SQLite, timestamptz on PostgreSQL).

        A batch repeats the same few moments (its commit time), so conversions are remembered.
        """
        if self._time is None:
            return moment
        stamp = self._stamps.get(moment)
        if stamp is None:
            stamp = self._stamps[moment] = self._time(moment)
        return stamp

    def boolean(self, value: bool) -> Any:
        """A boolean as the driver takes it."""
        return self._bool(value) if self._bool else value

    def date(self, value: date) -> Any:
        """A date as the driver takes it."""
        return self._date(value) if self._date else value

    async def insert(
        self, conn: AsyncConnection, table: str, columns: tuple[str, ...],
        rows: list[tuple[Any, ...]], suffix: str,
    ) -> list[Any]:
        """``INSERT … <rows> <suffix>``; the rows returned when ``suffix`` says RETURNING."""
        out: list[Any] = []
        if self.numbered:
            result = await conn.exec_driver_sql(
                _unnest_text(table, columns, suffix),
                tuple(list(col) for col in zip(*rows, strict=True)),
            )
            return list(result.all()) if "RETURNING" in suffix else out
        for first in range(0, len(rows), MAX_ROWS):
            chunk = rows[first:first + MAX_ROWS]
            result = await conn.exec_driver_sql(
                _values_text(table, columns, len(chunk), suffix),
                tuple(chain.from_iterable(chunk)),
            )
            if "RETURNING" in suffix:
                out.extend(result.all())
        return out


@lru_cache(maxsize=32)
def _unnest_text(table: str, columns: tuple[str, ...], suffix: str) -> str:
    from sqlalchemy.dialects import postgresql

    from bot.db.base import Base

    dialect = postgresql.dialect()
    target = Base.metadata.tables[table]
    arrays = ", ".join(
        f"${i + 1}::{target.c[name].type.compile(dialect=dialect)}[]"
        for i, name in enumerate(columns)
    )
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
            f"{suffix}").strip()


@lru_cache(maxsize=256)
def _values_text(table: str, columns: tuple[str, ...], rows: int, suffix: str) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)} "
            f"{suffix}").strip()


__all__ = ["MAX_ROWS", "MultiRow"]
