"""Health state (what /healthz answers from) and the damaged-database classifier."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DatabaseError

from bot.health import Health, is_damaged_database


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_shard_is_a_problem_only_after_a_minute_down() -> None:
    clock = Clock()
    health = Health(clock)
    health.gateway_starting()
    health.shard_connected(0)
    health.shard_connected(1)
    health.shard_disconnected(1)
    clock.now += 2
    health.shard_connected(1)  # a RESUME
    clock.now += 600
    assert health.gateway_problems() == []
    health.shard_disconnected(0)
    clock.now += 60
    assert health.gateway_problems() == []
    health.shard_disconnected(0)  # a failed reconnect does not restart the clock
    clock.now += 1
    assert health.gateway_problems() == ["shard 0 has been disconnected for 61 s"]
    health.gateway_closed()  # stopping on purpose
    assert health.gateway_problems() == []


def test_no_shard_connected_within_a_minute_of_the_start_is_a_problem() -> None:
    clock = Clock()
    health = Health(clock)
    health.gateway_starting()
    clock.now += 61
    assert health.gateway_problems() == ["no shard has connected in 60 s since the start"]
    health.shard_connected(0)
    assert health.gateway_problems() == []


def test_the_database_is_marked_damaged_once() -> None:
    health = Health(Clock())
    assert health.database_damaged("database disk image is malformed")
    assert not health.database_damaged("again")
    assert health.database_damage == "database disk image is malformed"


def test_damage_is_recognised_through_sqlalchemy_wrapping() -> None:
    orig = sqlite3.DatabaseError("database disk image is malformed")
    wrapped = DatabaseError("SELECT 1", {}, orig)
    assert is_damaged_database(wrapped)
    try:
        try:
            raise wrapped
        except DatabaseError as exc:
            raise RuntimeError("while answering") from exc
    except RuntimeError as outer:
        assert is_damaged_database(outer)
    assert not is_damaged_database(sqlite3.OperationalError("database is locked"))
