"""Daily-quiz schedules: moderators' input, CRUD per guild, next post times across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.app import AppContext
from bot.errors import InvalidInputError, NotFoundError
from bot.services.schedules import (
    ScheduleService,
    days_text,
    fire_times,
    parse_close_after,
    parse_days,
    parse_local_time,
    parse_zone,
)

GUILD, OTHER_GUILD, CHANNEL, MOD = 5001, 5002, 6001, 7001


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9", time(9)), ("09:00", time(9)), ("18:30", time(18, 30)), ("9am", time(9)),
     ("6:30 pm", time(18, 30)), ("12am", time(0)), ("12pm", time(12)), ("21h15", time(21, 15))],
)
def test_times_are_read_as_moderators_type_them(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "9:60", "noon", "", "13pm", "9:5"])
def test_a_bad_time_gets_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidInputError, match="24-hour"):
        parse_local_time(text)


def test_zones_are_iana_names_and_etc_utc_is_offered() -> None:
    assert parse_zone("etc/utc") == "Etc/UTC"
    assert parse_zone("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(InvalidInputError, match="time zone"):
        parse_zone("Mars/Olympus")


def test_days_and_durations() -> None:
    assert parse_days("daily") == 127 and days_text(127) == "every day"
    assert parse_days("weekdays") == 0b0011111 == parse_days("mon-fri")
    assert parse_days("mon, wed,fri") == 0b0010101
    assert days_text(0b0010101) == "Mon, Wed, Fri"
    assert parse_days("sat-mon") == 0b1100001
    with pytest.raises(InvalidInputError, match="not a day"):
        parse_days("funday")
    assert parse_close_after("23h") == 23 * 60
    assert parse_close_after("2h30m") == 150
    assert parse_close_after("1d") == 1440
    assert parse_close_after(None) == 23 * 60
    for bad in ("0m", "8d", "soon"):
        with pytest.raises(InvalidInputError):
            parse_close_after(bad)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_0230_berlin_fires_at_0330_on_spring_forward_day() -> None:
    """2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day."""
    fires = fire_times(time(2, 30), "Europe/Berlin", 127, _utc(2026, 3, 28), _utc(2026, 3, 31))
    assert [f.astimezone(UTC) for f in fires] == [
        _utc(2026, 3, 28, 1, 30),  # 02:30 CET
        _utc(2026, 3, 29, 1, 30),  # 03:30 CEST: the first valid local time after 02:30
        _utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_0230_berlin_fires_twice_on_fall_back_day() -> None:
    """2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice."""
    fires = fire_times(time(2, 30), "Europe/Berlin", 127, _utc(2026, 10, 24), _utc(2026, 10, 27))
    assert [f.astimezone(UTC) for f in fires] == [
        _utc(2026, 10, 24, 0, 30),
        _utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        _utc(2026, 10, 25, 1, 30),  # 02:30 CET: the second fire, same local date
        _utc(2026, 10, 26, 1, 30),
    ]
    berlin_dates = {f.date() for f in fires[1:3]}
    assert berlin_dates == {date(2026, 10, 25)}


def test_0900_stays_0900_local_across_dst() -> None:
    fires = fire_times(time(9), "Europe/Berlin", 127, _utc(2026, 3, 28), _utc(2026, 3, 30))
    assert [f.astimezone(UTC).hour for f in fires] == [8, 7]


async def _add(app: AppContext, guild: int = GUILD, **kwargs: object) -> int:
    values: dict[str, object] = {
        "guild_id": guild, "channel_id": CHANNEL, "created_by": MOD,
        "local_time": "09:00", "timezone": "Europe/Berlin", **kwargs,
    }
    async with app.db.sessions.begin() as session:
        view = await app.services.schedules.add(session, **values)  # type: ignore[arg-type]
        return view.id


async def test_add_list_and_next_post(app: AppContext) -> None:
    now = _utc(2026, 12, 1, 12)
    async with app.db.sessions.begin() as session:
        view = await app.services.schedules.add(
            session, guild_id=GUILD, channel_id=CHANNEL, created_by=MOD, local_time="9am",
            timezone="europe/berlin", days="weekdays", now=now,
        )
    assert view.timezone == "Europe/Berlin" and view.local_time == time(9)
    assert view.close_after == 23 * 60 and view.reveal == "at_close" and view.source == "random"
    assert view.next_post_at == _utc(2026, 12, 2, 8)  # Wed 09:00 CET
    assert view.next_post_local is not None and view.next_post_local.hour == 9
    async with app.db.sessions() as session:
        listed = await app.services.schedules.list(session, GUILD, now)
        assert [s.id for s in listed] == [view.id]
        assert await app.services.schedules.list(session, OTHER_GUILD, now) == []


async def test_a_schedule_is_only_reachable_from_its_own_guild(app: AppContext) -> None:
    schedule_id = await _add(app)
    async with app.db.sessions.begin() as session:
        for action in (
            app.services.schedules.pause(session, OTHER_GUILD, schedule_id),
            app.services.schedules.remove(session, OTHER_GUILD, schedule_id),
            app.services.schedules.edit(session, OTHER_GUILD, schedule_id, local_time="10:00"),
        ):
            with pytest.raises(NotFoundError, match="no daily quiz"):
                await action
    async with app.db.sessions() as session:
        assert (await app.services.schedules.get(session, GUILD, schedule_id)).local_time == time(9)


async def test_the_cap_per_guild_is_a_setting(app: AppContext) -> None:
    app.services.schedules = ScheduleService(app.course, max_per_guild=2)
    await _add(app)
    await _add(app)
    with pytest.raises(InvalidInputError, match="most allowed"):
        await _add(app)
    await _add(app, guild=OTHER_GUILD)  # another guild has its own cap


async def test_lesson_source_needs_a_lesson_with_choice_questions(app: AppContext) -> None:
    with pytest.raises(InvalidInputError, match="name the lesson"):
        await _add(app, source="lesson")
    with pytest.raises(NotFoundError, match="no lesson"):
        await _add(app, source="lesson", lesson="no such lesson")
    schedule_id = await _add(app, source="lesson", lesson="fx-nn")
    async with app.db.sessions() as session:
        assert (await app.services.schedules.get(session, GUILD, schedule_id)).lesson_id == "fx-nn"


async def test_edit_pause_resume_skip_remove(app: AppContext) -> None:
    now = _utc(2026, 12, 1, 12)
    schedule_id = await _add(app)
    service = app.services.schedules
    async with app.db.sessions.begin() as session:
        edited = await service.edit(session, GUILD, schedule_id, local_time="18:30",
                                    reveal="instant", close_after="2h", now=now)
        assert (edited.local_time, edited.reveal, edited.close_after) == (time(18, 30), "instant", 120)
        assert edited.next_post_at == _utc(2026, 12, 1, 17, 30)
        paused = await service.pause(session, GUILD, schedule_id, now=now)
        assert paused.paused and paused.next_post_at is None
        resumed = await service.resume(session, GUILD, schedule_id, now=now)
        assert not resumed.paused and resumed.next_post_at == _utc(2026, 12, 1, 17, 30)
        skipped = await service.skip_next(session, GUILD, schedule_id, now=now)
        assert skipped.skip_date == date(2026, 12, 1)
        assert skipped.next_post_at == _utc(2026, 12, 2, 17, 30)
        with pytest.raises(InvalidInputError, match="instant"):
            await service.edit(session, GUILD, schedule_id, reveal="sometimes")
        await service.remove(session, GUILD, schedule_id)
    async with app.db.sessions() as session:
        assert await service.list(session, GUILD) == []


async def test_leaving_a_guild_pauses_its_schedules(app: AppContext) -> None:
    first, second = await _add(app), await _add(app)
    other = await _add(app, guild=OTHER_GUILD)
    async with app.db.sessions.begin() as session:
        assert await app.services.schedules.pause_guild(session, GUILD, "the bot left") == 2
    async with app.db.sessions() as session:
        views = {v.id: v for v in await app.services.schedules.list(session, GUILD)}
        assert views[first].paused and views[second].paused
        assert views[first].pause_reason == "the bot left"
        assert not (await app.services.schedules.get(session, OTHER_GUILD, other)).paused
