"""Daily quizzes on Discord: the publisher the job runner posts through, and guild departures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.exts.daily._publisher import DiscordPublisher

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger(__name__)

LEFT_GUILD = "I was removed from the server"


class Daily(commands.Cog):
    """Posts moderators' daily quizzes (when this process leads the job runner)."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        #: What the job runner posts through (:class:`bot.jobs.ports.Publisher`).
        self.publisher = DiscordPublisher(bot)

    async def cog_load(self) -> None:
        """Register the job runner, posting through this bot, as a worker of the app.

        The app starts it with its other workers and stops it on shutdown, after the
        interactions in flight. Not with ``jobs.enabled = false``.
        """
        app = self.bot.app
        if not app.settings.jobs.enabled:
            log.info("jobs are disabled in this process (jobs.enabled = false)")
            return
        from bot.exts.maintain._digest import DiscordDigestPoster
        from bot.exts.remind._sender import DiscordReminderSender
        from bot.jobs import build_job_runner

        # The maintainers' weekly digest, /ask log pruning and review reminders run on the
        # same runner.
        app.register_worker(
            build_job_runner(app, self.publisher, DiscordDigestPoster(self.bot),
                             DiscordReminderSender(self.bot))
        )

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot left (or was removed from) a server: its daily quizzes pause."""
        app = self.bot.app
        async with app.db.sessions.begin() as session:
            paused = await app.services.schedules.pause_guild(session, guild.id, LEFT_GUILD)
        if paused:
            log.info("left guild %s: paused %d daily quiz(zes)", guild.id, paused)
