"""The PostgreSQL databases tests reuse (tests/conftest.py): as fresh as a new copy, or dropped."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import PostgresPool, _pg_dsn, require_postgres

pytestmark = pytest.mark.postgres


def _state(name: str) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per table and the next value of every sequence (read without using it up)."""
    with psycopg.connect(_pg_dsn(name), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # type: ignore[index]
        sequences = {
            r[0]: r[1] if not r[2] else r[1] + 1
            for r in conn.execute(
                "SELECT sequencename, coalesce(last_value, start_value), last_value IS NOT NULL "
                "FROM pg_sequences WHERE schemaname = 'public'"
            )
        }
    return rows, sequences


def test_a_reused_database_is_as_fresh_as_a_new_copy(postgres_pool: PostgresPool) -> None:
    require_postgres()
    name = postgres_pool.take()
    fresh = _state(name)
    with psycopg.connect(_pg_dsn(name), autocommit=True) as conn:
        conn.execute("INSERT INTO learner (id, display_name, timezone, created_at, updated_at) "
                     "VALUES (7, 'Ada', 'UTC', now(), now())")
        conn.execute("INSERT INTO quiz_attempt (learner_id, question_ids, seed, started_at) "
                     "VALUES (7, '[]', 1, now())")
        for (sequence,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            conn.execute("SELECT nextval(%s)", (sequence,))
    assert _state(name) != fresh
    postgres_pool.give_back(name)
    again = postgres_pool.take()
    assert again == name  # reused, not copied again
    assert _state(again) == fresh  # no rows left, every sequence starts over
    postgres_pool.give_back(again)


def test_a_database_whose_schema_a_test_changed_is_dropped(postgres_pool: PostgresPool) -> None:
    require_postgres()
    name = postgres_pool.take()
    with psycopg.connect(_pg_dsn(name), autocommit=True) as conn:
        conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "'BEGIN RAISE EXCEPTION ''no''; END'")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON learner "
                     "FOR EACH ROW EXECUTE FUNCTION refuse()")
    postgres_pool.give_back(name)
    assert name not in postgres_pool.made and name not in postgres_pool.free
    with psycopg.connect(_pg_dsn("postgres"), autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is None
