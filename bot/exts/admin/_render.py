"""What ``/admin reload`` shows: the problems that kept the old course, or what changed."""

from __future__ import annotations

import discord

from bot.services.reload import ReloadOutcome
from bot.ui.embeds import INFO_COLOUR, RIGHT_COLOUR, WRONG_COLOUR, embed, footer
from bot.ui.limits import EMBED_DESCRIPTION_MAX
from bot.ui.text import plural, truncate

#: Problems listed in full; the rest are counted (``tutorbot lessons check`` lists them all).
PROBLEMS_SHOWN = 20


def _code_block(lines: list[str], limit: int) -> str:
    """``lines`` in a code block (file paths and messages shown as written, never as Markdown)."""
    body = "\n".join(line.replace("```", "'''") for line in lines)
    return f"```\n{truncate(body, limit - 8)}\n```"


def reload_outcome(outcome: ReloadOutcome) -> discord.Embed:
    """The private reply to ``/admin reload``."""
    if not outcome.ok:
        shown = list(outcome.problems[:PROBLEMS_SHOWN])
        more = len(outcome.problems) - len(shown)
        if more:
            shown.append(f"... and {plural(more, 'more problem')} (tutorbot lessons check)")
        result = embed(
            title=f"Not reloaded: {plural(len(outcome.problems), 'problem')}",
            description=_code_block(shown, EMBED_DESCRIPTION_MAX),
            colour=WRONG_COLOUR,
        )
        return footer(result, "The bot keeps the course it has. Fix the files and try again.")
    if outcome.unchanged:
        return embed(title="Nothing to reload", description=outcome.summary(), colour=INFO_COLOUR)
    lines = outcome.summary().splitlines()
    result = embed(title="Course reloaded", description=_code_block(lines[1:-1], 3000),
                   colour=RIGHT_COLOUR)
    result.description = f"{lines[0]}\n{result.description}"
    return footer(result, lines[-1] + " Other processes follow within the reload poll interval.")
