"""Learners and guild membership: who is taking the course, where, and in which time zone."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import Guild, GuildMember, Learner
from bot.db.upsert import insert_ignore, upsert
from bot.errors import InvalidInputError

MAX_NAME_CHARS = 100


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    """Every IANA zone name, sorted (from the system database or the ``tzdata`` package)."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def parse_timezone(text: str) -> str:
    """The canonical zone name for what a learner typed, or :class:`InvalidInputError`.

    Matching ignores case (``europe/berlin`` works) but never guesses beyond that.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 64:
        raise InvalidInputError("Please give a time zone such as `Europe/Berlin` or `UTC`.")
    by_fold = {zone.casefold(): zone for zone in all_timezones()}
    zone = by_fold.get(cleaned.casefold().replace(" ", "_"))
    if zone is None:
        raise InvalidInputError(
            f"I don't know the time zone `{cleaned[:64]}`. Use a name from the list, such as "
            "`Europe/Berlin`, `America/New_York` or `Asia/Kolkata`."
        )
    return zone


def search_timezones(text: str, limit: int = 25) -> list[str]:
    """Zones containing ``text`` (case-insensitive), best first: for autocomplete."""
    needle = text.strip().casefold().replace(" ", "_")
    zones = all_timezones()
    if not needle:
        return [
            "UTC",
            "Europe/London",
            "Europe/Berlin",
            "America/New_York",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Asia/Tokyo",
            "Australia/Sydney",
        ][:limit]
    starts = [
        z
        for z in zones
        if z.casefold().startswith(needle) or z.casefold().split("/")[-1].startswith(needle)
    ]
    contains = [z for z in zones if needle in z.casefold() and z not in starts]
    return (starts + contains)[:limit]


def local_now(zone: str, now: datetime | None = None) -> datetime:
    """``now`` (default: the current time) in the given zone; unknown zones fall back to UTC."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return (now or utcnow()).astimezone(tz)


class LearnerService:
    """Creates learners on first contact and keeps their name, guilds and time zone."""

    def __init__(self, default_timezone: str = "UTC") -> None:
        self.default_timezone = default_timezone

    async def ensure(
        self,
        session: AsyncSession,
        learner_id: int,
        display_name: str = "",
        *,
        guild_id: int | None = None,
        guild_name: str = "",
    ) -> None:
        """Create the learner on first contact, keep their name, record guild membership.

        Three single-row statements at most: every command and click runs this first.
        """
        name = display_name.strip()[:MAX_NAME_CHARS]
        now = utcnow()
        values = {
            "id": learner_id,
            "display_name": name,
            "timezone": self.default_timezone,
            "created_at": now,
            "updated_at": now,
        }
        if name:
            await upsert(session, Learner, values, update=("display_name",))
        else:
            await insert_ignore(session, Learner, **values)
        if guild_id is not None:
            await insert_ignore(session, Guild, id=guild_id, name=guild_name[:100], created_at=now)
            await upsert(
                session,
                GuildMember,
                {
                    "guild_id": guild_id,
                    "learner_id": learner_id,
                    "first_seen_at": now,
                    "last_seen_at": now,
                },
                update=("last_seen_at",),
            )

    async def get(self, session: AsyncSession, learner_id: int) -> Learner | None:
        """The learner, or ``None`` if they never used the bot."""
        return await session.get(Learner, learner_id)

    async def set_timezone(self, session: AsyncSession, learner_id: int, text: str) -> str:
        """Validate and store the learner's time zone; returns its canonical name."""
        zone = parse_timezone(text)
        await self.ensure(session, learner_id)
        await session.execute(update(Learner).where(Learner.id == learner_id).values(timezone=zone))
        return zone

    async def names(self, session: AsyncSession, learner_ids: list[int]) -> dict[int, str]:
        """Display names for these learners (missing ones are left out)."""
        if not learner_ids:
            return {}
        rows = await session.execute(
            select(Learner.id, Learner.display_name).where(Learner.id.in_(learner_ids))
        )
        return {row.id: row.display_name for row in rows}
