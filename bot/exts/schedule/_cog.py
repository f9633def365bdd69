"""/schedule: moderators' daily quizzes (add, list, edit, pause, resume, remove, test, skip).

A guild-only top-level group with Manage Server as its default permission (discord.py ignores
default permissions on subcommands). Every subcommand runs in one
:class:`~bot.exts._interactions.Turn`, and in one transaction checks Manage Server or the
configured moderator role (:class:`~bot.exts._moderators.StaffGate`), then reads or changes the
schedule; the channel checks in between read discord.py's cache, never await Discord. A schedule
id from an option is looked up within the caller's server only (the service checks it).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.base import utcnow
from bot.errors import InvalidInputError, NotFoundError
from bot.exts._interactions import Turn, send
from bot.exts._moderators import MODERATOR_PERMISSIONS, SERVER_ONLY, StaffGate
from bot.exts.daily import _render as daily_render
from bot.exts.schedule import _render as render
from bot.exts.schedule._checks import bot_member, check_ping_role, missing_permissions
from bot.services.daily import PostToSend, ReviewCandidate
from bot.services.quiz import shuffled_choices
from bot.services.schedules import UNSET, ScheduleView, choice_pool
from bot.ui.autocomplete import lesson_choices, text_choices
from bot.ui.embeds import notice
from bot.ui.limits import AUTOCOMPLETE_CHOICES_MAX, CHOICE_NAME_MAX
from bot.ui.text import truncate

if TYPE_CHECKING:
    from bot.bot import TutorBot
    from bot.runtime import Unit

T = TypeVar("T")

#: Offered first when the moderator has typed nothing: UTC (as ``Etc/UTC``, never "London").
POPULAR_ZONES = (
    "Etc/UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
    "Australia/Sydney",
)


def zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """IANA zones matching what was typed; ``Etc/UTC`` whenever it matches (or nothing was)."""
    from bot.services.learners import search_timezones

    typed = current.strip()[:64]
    if not typed:
        return text_choices(list(POPULAR_ZONES))
    found = [zone for zone in search_timezones(typed, limit=AUTOCOMPLETE_CHOICES_MAX) if zone]
    if "utc".startswith(typed.casefold()) or typed.casefold() in "etc/utc":
        found = ["Etc/UTC", *[zone for zone in found if zone != "Etc/UTC"]]
    return text_choices(found)


class Schedules(commands.Cog):
    """Moderators' daily quizzes."""

    schedule = app_commands.Group(
        name="schedule",
        description="Daily quizzes posted in your channels (moderators)",
        guild_only=True,
        allowed_contexts=SERVER_ONLY,
        default_permissions=MODERATOR_PERMISSIONS,
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    # --- helpers -------------------------------------------------------------------------

    async def _work(
        self, turn: Turn, work: Callable[[Unit, int], Awaitable[T]]
    ) -> T:
        """``work(unit, guild_id)`` for a moderator, in the interaction's one transaction.

        The moderator check (Manage Server or the role set with ``/config``) comes first, in
        the same transaction; it defers (privately) if it runs long.
        """
        gate = StaffGate.of(turn.interaction)

        async def checked(unit: Unit) -> T:
            await gate.moderator(unit)
            return await work(unit, gate.guild_id)

        return await turn.run(checked, ephemeral=True, ensure_learner=False)

    def _check_channel(
        self, interaction: discord.Interaction[Any], channel: discord.abc.GuildChannel,
        *, thread: bool,
    ) -> None:
        me = bot_member(interaction)
        if me is None:
            return  # not in this process's cache: the first post will tell (and pause)
        missing = missing_permissions(channel, me, thread=thread)
        if missing:
            raise InvalidInputError(render.missing_in_channel(channel.id, missing))

    def _channel_of(
        self, interaction: discord.Interaction[Any], channel_id: int
    ) -> discord.abc.GuildChannel | None:
        guild = interaction.guild
        return guild.get_channel(channel_id) if guild is not None else None

    async def _reply(
        self, interaction: discord.Interaction[Any], *, content: str | None = None,
        embed: discord.Embed | None = None,
    ) -> None:
        await send(interaction, content=content, embeds=[embed] if embed else [], ephemeral=True)

    # --- subcommands ---------------------------------------------------------------------

    @schedule.command(name="add")
    @app_commands.describe(
        channel="Where to post the quiz",
        time="Local time of day, e.g. 09:00 or 18:30 (24-hour clock)",
        timezone="The time zone of that time, e.g. Europe/Berlin or Etc/UTC",
        days="Which days: daily (default), weekdays, weekends, or e.g. mon,wed,fri",
        source="random: the whole course; lesson: one lesson; review: what this server gets wrong most",
        lesson="The lesson, with source: lesson (narrows random and review too)",
        close_after="How long it takes answers, e.g. 23h (default), 90m, 2d",
        reveal="at_close (default): answers shown with the results; instant: right away",
        ping_role="A role to ping with each quiz (never @everyone)",
        thread="Open a thread under each quiz for discussion",
    )
    async def add(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 20],
        timezone: app_commands.Range[str, 1, 64],
        days: app_commands.Range[str, 1, 60] | None = None,
        source: Literal["random", "lesson", "review"] = "random",
        lesson: app_commands.Range[str, 1, 100] | None = None,
        close_after: app_commands.Range[str, 1, 20] | None = None,
        reveal: Literal["at_close", "instant"] = "at_close",
        ping_role: discord.Role | None = None,
        thread: bool = False,
    ) -> None:
        """Post a daily quiz in a channel at a local time."""
        async with Turn(interaction) as turn:

            async def work(unit: Unit, guild_id: int) -> ScheduleView:
                self._check_channel(interaction, channel, thread=thread)
                if ping_role is not None:
                    check_ping_role(ping_role, channel, bot_member(interaction))
                return await unit.services.schedules.add(
                    unit.session, guild_id=guild_id, channel_id=channel.id,
                    created_by=turn.actor.user_id, local_time=time, timezone=timezone,
                    days=days, source=source, lesson=lesson, close_after=close_after,
                    reveal=reveal, ping_role_id=ping_role.id if ping_role else None,
                    use_thread=thread,
                )

            made = await self._work(turn, work)
            await self._reply(interaction, embed=render.saved(made, turn.course, "added"))

    @schedule.command(name="list")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        """This server's daily quizzes and when each posts next."""
        async with Turn(interaction) as turn:

            async def work(
                unit: Unit, guild_id: int
            ) -> tuple[list[ScheduleView], dict[int, int]]:
                views = await unit.services.schedules.list(unit.session, guild_id)
                review = {
                    view.id: len(await unit.services.daily.review_candidates(
                        unit.session, guild_id, view.channel_id, view.lesson_id))
                    for view in views if view.source == "review"
                }
                return views, review

            found, review = await self._work(turn, work)
            embed = render.schedule_list(found, turn.course,
                                         cap=turn.services.schedules.max_per_guild,
                                         review_candidates=review)
            await self._reply(interaction, embed=embed)

    @schedule.command(name="edit")
    @app_commands.describe(
        id="The daily quiz to change (see /schedule list)",
        channel="Post in another channel",
        time="New local time of day, e.g. 09:00",
        timezone="New time zone, e.g. Europe/Berlin or Etc/UTC",
        days="daily, weekdays, weekends, or e.g. mon,wed,fri",
        source="random (whole course), lesson, or review (what this server gets wrong most)",
        lesson="The lesson, with source: lesson",
        close_after="How long it takes answers, e.g. 23h, 90m",
        reveal="at_close or instant",
        ping_role="A role to ping with each quiz (never @everyone)",
        no_ping="True: stop pinging a role",
        thread="Open a thread under each quiz",
    )
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        id: int,
        channel: discord.TextChannel | None = None,
        time: app_commands.Range[str, 1, 20] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        days: app_commands.Range[str, 1, 60] | None = None,
        source: Literal["random", "lesson", "review"] | None = None,
        lesson: app_commands.Range[str, 1, 100] | None = None,
        close_after: app_commands.Range[str, 1, 20] | None = None,
        reveal: Literal["at_close", "instant"] | None = None,
        ping_role: discord.Role | None = None,
        no_ping: bool = False,
        thread: bool | None = None,
    ) -> None:
        """Change a daily quiz (a post already made today is never made twice)."""
        async with Turn(interaction) as turn:

            async def work(unit: Unit, guild_id: int) -> ScheduleView:
                if ping_role is not None and no_ping:
                    raise InvalidInputError("Pick a ping role or `no_ping`, not both.")
                schedules = unit.services.schedules
                before = await schedules.get(unit.session, guild_id, id)
                target = channel or self._channel_of(interaction, before.channel_id)
                use_thread = before.use_thread if thread is None else thread
                if target is not None and (channel is not None or thread):
                    self._check_channel(interaction, target, thread=use_thread)
                if ping_role is not None and target is not None:
                    check_ping_role(ping_role, target, bot_member(interaction))
                return await schedules.edit(
                    unit.session, guild_id, id,
                    channel_id=channel.id if channel else UNSET,
                    local_time=time if time is not None else UNSET,
                    timezone=timezone if timezone is not None else UNSET,
                    days=days if days is not None else UNSET,
                    source=source if source is not None else UNSET,
                    lesson=lesson if lesson is not None else UNSET,
                    close_after=close_after if close_after is not None else UNSET,
                    reveal=reveal if reveal is not None else UNSET,
                    ping_role_id=None if no_ping else (ping_role.id if ping_role else UNSET),
                    use_thread=thread if thread is not None else UNSET,
                )

            changed = await self._work(turn, work)
            await self._reply(interaction, embed=render.saved(changed, turn.course, "changed"))

    @schedule.command(name="pause")
    @app_commands.describe(id="The daily quiz to pause (see /schedule list)")
    async def pause(self, interaction: discord.Interaction[Any], id: int) -> None:
        """Stop posting a daily quiz until resumed."""
        async with Turn(interaction) as turn:
            who = truncate(turn.actor.name, 60)
            await self._work(turn, lambda unit, guild_id: unit.services.schedules.pause(
                unit.session, guild_id, id, reason=f"paused by {who}"
            ))
            await self._reply(interaction, content=notice(
                f"\u23f8\ufe0f Daily quiz #{id} is paused. `/schedule resume id:{id}` starts "
                "it again."
            ))

    @schedule.command(name="resume")
    @app_commands.describe(id="The daily quiz to resume (see /schedule list)")
    async def resume(self, interaction: discord.Interaction[Any], id: int) -> None:
        """Post a paused daily quiz again, from its next time on."""
        async with Turn(interaction) as turn:

            async def work(unit: Unit, guild_id: int) -> ScheduleView:
                schedules = unit.services.schedules
                before = await schedules.get(unit.session, guild_id, id)
                target = self._channel_of(interaction, before.channel_id)
                if target is None and interaction.guild is not None:
                    raise NotFoundError(
                        f"The channel of daily quiz #{id} no longer exists. Pick another with "
                        f"`/schedule edit id:{id} channel:`, then resume it."
                    )
                if target is not None:
                    self._check_channel(interaction, target, thread=before.use_thread)
                return await schedules.resume(unit.session, guild_id, id)

            resumed = await self._work(turn, work)
            await self._reply(interaction, content=notice(
                f"\u25b6\ufe0f Daily quiz #{id} is back on. Next: {render.next_post(resumed)}"
            ))

    @schedule.command(name="remove")
    @app_commands.describe(id="The daily quiz to delete (see /schedule list)")
    async def remove(self, interaction: discord.Interaction[Any], id: int) -> None:
        """Delete a daily quiz (an open post still closes with its results)."""
        async with Turn(interaction) as turn:
            await self._work(
                turn, lambda unit, guild_id: unit.services.schedules.remove(
                    unit.session, guild_id, id
                ),
            )
            await self._reply(interaction,
                              content=notice(f"\U0001f5d1\ufe0f Daily quiz #{id} removed."))

    @schedule.command(name="skip")
    @app_commands.describe(id="The daily quiz whose next post to skip (see /schedule list)")
    async def skip(self, interaction: discord.Interaction[Any], id: int) -> None:
        """Skip the next post of a daily quiz (later ones go on)."""
        async with Turn(interaction) as turn:
            skipped = await self._work(
                turn, lambda unit, guild_id: unit.services.schedules.skip_next(
                    unit.session, guild_id, id
                ),
            )
            day = f"{skipped.skip_date:%a %d %b}" if skipped.skip_date else "the next post"
            await self._reply(interaction, content=notice(
                f"\u23ed\ufe0f Daily quiz #{id} skips {day}. Then: {render.next_post(skipped)}"
            ))

    @schedule.command(name="test")
    @app_commands.describe(id="The daily quiz to preview (see /schedule list)")
    async def test(self, interaction: discord.Interaction[Any], id: int) -> None:
        """Preview a daily quiz privately (nothing is posted or counted)."""
        async with Turn(interaction) as turn:

            async def work(
                unit: Unit, guild_id: int
            ) -> tuple[ScheduleView, list[ReviewCandidate]]:
                view = await unit.services.schedules.get(unit.session, guild_id, id)
                if view.source != "review":
                    return view, []
                return view, await unit.services.daily.review_candidates(
                    unit.session, guild_id, view.channel_id, view.lesson_id)

            schedule, hardest = await self._work(turn, work)
            course = turn.course
            pool = choice_pool(course, schedule.lesson_id)
            if not pool:
                raise InvalidInputError("There is no multiple-choice question to post for it.")
            question = hardest[0].question if hardest else random.choice(pool)
            now = utcnow()
            preview = PostToSend(
                post_id=0, schedule_id=schedule.id, guild_id=schedule.guild_id,
                channel_id=schedule.channel_id,
                local_date=now.astimezone(ZoneInfo(schedule.timezone)).date(), nonce="",
                question=question, choices=shuffled_choices(question, 0),
                reveal=schedule.reveal, ping_role_id=None, use_thread=schedule.use_thread,
                due_at=now, claimed_at=now,
                closes_at=now + timedelta(minutes=schedule.close_after), message_id=None,
                attempts=0,
            )
            lines = [f"Preview of daily quiz #{id} (only you see this; nothing is counted)."]
            if schedule.source == "review":
                lines.append(render.review_preview(hardest[0] if hardest else None, len(hardest)))
            target = self._channel_of(interaction, schedule.channel_id)
            me = bot_member(interaction)
            if target is None and interaction.guild is not None:
                lines.append(f"\u26a0\ufe0f Its channel <#{schedule.channel_id}> no longer exists.")
            elif target is not None and me is not None:
                missing = missing_permissions(target, me, thread=schedule.use_thread)
                if missing:
                    lines.append("\u26a0\ufe0f " + render.missing_in_channel(target.id, missing))
                else:
                    lines.append(f"\u2705 I can post in <#{schedule.channel_id}>.")
            lines.append(f"Next: {render.next_post(schedule)}")
            await send(
                interaction,
                content=notice("\n".join(lines)),
                embeds=[daily_render.post_embed(preview, course.lesson(question.lesson_id))],
                view=daily_render.preview_view(preview),
                ephemeral=True,
            )

    # --- autocomplete --------------------------------------------------------------------

    @add.autocomplete("timezone")
    @edit.autocomplete("timezone")
    async def _zones(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return zone_choices(current)

    @add.autocomplete("lesson")
    @edit.autocomplete("lesson")
    async def _lessons(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        course = self.bot.app.course
        found = [item for item in course.search_lessons(current) if choice_pool(course, item.id)]
        return lesson_choices(found)

    @edit.autocomplete("id")
    @pause.autocomplete("id")
    @resume.autocomplete("id")
    @remove.autocomplete("id")
    @skip.autocomplete("id")
    @test.autocomplete("id")
    async def _ids(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        app = self.bot.app
        async with app.db.sessions() as session:
            found = await app.services.schedules.list(session, guild_id)
        channels = {c.id: c.name for c in interaction.guild.channels} if interaction.guild else {}
        choices = []
        for item in found:
            where = channels.get(item.channel_id, str(item.channel_id))
            name = (f"#{item.id} \u00b7 #{where} at {item.local_time:%H:%M} {item.timezone}"
                    + (" (paused)" if item.paused else ""))
            if current.strip().lstrip("#") in name:
                choices.append(app_commands.Choice(name=truncate(name, CHOICE_NAME_MAX),
                                                   value=item.id))
        return choices[:AUTOCOMPLETE_CHOICES_MAX]
