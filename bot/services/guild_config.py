"""A guild's settings (/config): roles, time zone, notice channel, /ask channels, token budget.

A guild without a ``guild_config`` row has every default. The daily token budget may only be
lowered below the operator's ``ask.guild_daily_token_budget`` (the operator pays), never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import Guild
from bot.db.models.daily import GuildAskChannel, GuildConfig
from bot.db.upsert import insert_ignore, upsert
from bot.errors import InvalidInputError
from bot.services.schedules import UNSET, _Unset, parse_zone

DEFAULT_GUILD_TIMEZONE = "Etc/UTC"


@dataclass(frozen=True)
class GuildSettings:
    """A guild's settings with defaults filled in."""

    guild_id: int
    moderator_role_id: int | None
    maintainer_role_id: int | None
    timezone: str
    notice_channel_id: int | None
    daily_token_budget: int  # the effective budget: the guild's, or the operator's
    budget_lowered: bool  # True when the guild set its own (lower) budget
    ask_channel_ids: frozenset[int]  # empty: /ask works in every channel

    def ask_allowed_in(self, channel_id: int | None, parent_id: int | None = None) -> bool:
        """Whether /ask may be used in a channel (a thread counts as its parent channel)."""
        if not self.ask_channel_ids:
            return True
        return channel_id in self.ask_channel_ids or (
            parent_id is not None and parent_id in self.ask_channel_ids
        )


class GuildConfigService:
    """Reads and changes a guild's settings."""

    def __init__(self, operator_token_budget: int) -> None:
        self.operator_token_budget = operator_token_budget

    async def get(self, session: AsyncSession, guild_id: int) -> GuildSettings:
        """The guild's settings (every default when it never ran /config)."""
        row = await session.get(GuildConfig, guild_id, populate_existing=True)
        channels = frozenset(
            await session.scalars(
                select(GuildAskChannel.channel_id).where(GuildAskChannel.guild_id == guild_id)
            )
        )
        budget = self.operator_token_budget
        lowered = False
        if row is not None and row.daily_token_budget is not None:
            lowered = row.daily_token_budget < budget
            budget = min(budget, row.daily_token_budget)
        return GuildSettings(
            guild_id=guild_id,
            moderator_role_id=row.moderator_role_id if row else None,
            maintainer_role_id=row.maintainer_role_id if row else None,
            timezone=row.timezone if row else DEFAULT_GUILD_TIMEZONE,
            notice_channel_id=row.notice_channel_id if row else None,
            daily_token_budget=budget,
            budget_lowered=lowered,
            ask_channel_ids=channels,
        )

    async def set(
        self,
        session: AsyncSession,
        guild_id: int,
        *,
        moderator_role_id: int | _Unset | None = UNSET,
        maintainer_role_id: int | _Unset | None = UNSET,
        timezone: str | _Unset = UNSET,
        notice_channel_id: int | _Unset | None = UNSET,
        daily_token_budget: int | _Unset | None = UNSET,
        now: datetime | None = None,
    ) -> GuildSettings:
        """Change some settings (``UNSET``: leave as is; ``None``: back to the default)."""
        now = now or utcnow()
        changes: dict[str, Any] = {}
        if not isinstance(moderator_role_id, _Unset):
            changes["moderator_role_id"] = moderator_role_id
        if not isinstance(maintainer_role_id, _Unset):
            changes["maintainer_role_id"] = maintainer_role_id
        if not isinstance(timezone, _Unset):
            changes["timezone"] = parse_zone(timezone)
        if not isinstance(notice_channel_id, _Unset):
            changes["notice_channel_id"] = notice_channel_id
        if not isinstance(daily_token_budget, _Unset):
            if daily_token_budget is not None:
                if daily_token_budget < 0:
                    raise InvalidInputError("The daily token budget cannot be negative.")
                if daily_token_budget > self.operator_token_budget:
                    raise InvalidInputError(
                        "The daily token budget can only be lowered: the bot's operator allows "
                        f"at most {self.operator_token_budget:,} tokens a day per server."
                    )
            changes["daily_token_budget"] = daily_token_budget
        await insert_ignore(session, Guild, id=guild_id, name="", created_at=now)
        current = await session.get(GuildConfig, guild_id, populate_existing=True)
        values: dict[str, Any] = {
            "guild_id": guild_id,
            "moderator_role_id": current.moderator_role_id if current else None,
            "maintainer_role_id": current.maintainer_role_id if current else None,
            "timezone": current.timezone if current else DEFAULT_GUILD_TIMEZONE,
            "notice_channel_id": current.notice_channel_id if current else None,
            "daily_token_budget": current.daily_token_budget if current else None,
            **changes,
            "updated_at": now,
        }
        await upsert(session, GuildConfig, values, update=(*changes, "updated_at"))
        return await self.get(session, guild_id)

    async def set_ask_channels(
        self, session: AsyncSession, guild_id: int, channel_ids: list[int]
    ) -> GuildSettings:
        """Allow /ask only in these channels (an empty list: everywhere)."""
        now = utcnow()
        await insert_ignore(session, Guild, id=guild_id, name="", created_at=now)
        await session.execute(delete(GuildAskChannel).where(GuildAskChannel.guild_id == guild_id))
        for channel_id in dict.fromkeys(channel_ids):
            await insert_ignore(session, GuildAskChannel, guild_id=guild_id, channel_id=channel_id)
        return await self.get(session, guild_id)


__all__ = ["DEFAULT_GUILD_TIMEZONE", "GuildConfigService", "GuildSettings"]
