"""The weekly digest as Discord shows it, and the poster the job runner sends it through."""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.ports import ChannelGoneError, ForbiddenError, PublishError, RetryableError
from bot.services.maintain import Digest
from bot.ui import embeds
from bot.ui.text import percent


def digest_embed(digest: Digest) -> discord.Embed:
    """The week in one embed: new and open feedback, lowest-rated lessons, questions to fix."""
    embed = embeds.embed(
        title=f"\U0001f4cb Course digest, week {digest.week}",
        description=(
            f"**{digest.new_items}** new feedback item(s) this week, **{digest.open_items}** "
            "open in all. Review them with `/maintain feedback list`."
        ),
    )
    if digest.lowest_rated:
        embeds.field(embed, "Lowest-rated lessons", "\n".join(
            f"{label}: {mean:.1f}/5 ({count} rating(s))" for label, mean, count in
            digest.lowest_rated), inline=False)
    if digest.most_reported:
        embeds.field(embed, "Most-reported questions", "\n".join(
            f"`{question}`: {count} open report(s)" for question, count in digest.most_reported),
            inline=False)
    if digest.flagged:
        embeds.field(embed, "Questions flagged by their statistics", "\n".join(
            f"`{s.question_id}` ({s.learners} learners, {percent(s.facility)} right): "
            + "; ".join(f.code.value for f in s.flags) for s in digest.flagged), inline=False)
    embeds.footer(embed, "/maintain questions and tutorbot report have the details")
    return embed


class DiscordDigestPoster:
    """Posts digests by channel id through the REST API (any shard's channel works)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post_digest(self, channel_id: int, digest: Digest, nonce: str) -> int:
        """Send the digest embed with ``nonce``; errors classified for the job."""
        channel: Any = self.client.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                embed=digest_embed(digest), nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.NotFound as exc:
            raise ChannelGoneError(str(exc), status=404) from exc
        except discord.Forbidden as exc:
            raise ForbiddenError(str(exc), status=403) from exc
        except discord.HTTPException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise RetryableError(str(exc), status=exc.status) from exc
            raise PublishError(str(exc), status=exc.status) from exc
        return int(message.id)
