"""◀ / ▶ of /maintain feedback list: the clicker is checked again, on every click."""

from __future__ import annotations

from typing import Any

import discord

from bot.exts._components import Click
from bot.exts.maintain._cog import show_page
from bot.ui import custom_ids as ids


class FeedbackPageButton(
    Click[ids.FeedbackPageKey],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=ids.FeedbackPageKey.pattern,
):
    """Another page of the feedback list, with the same filters."""

    key_type = ids.FeedbackPageKey

    async def clicked(
        self, interaction: discord.Interaction[Any], key: ids.FeedbackPageKey
    ) -> None:
        await show_page(interaction, key, update=True)


BUTTONS = (FeedbackPageButton,)
