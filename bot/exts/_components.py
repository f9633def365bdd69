"""The base of every button handler: a DynamicItem matched on custom id alone.

A handler is rebuilt from the custom id of each click, so buttons sent before a restart (or by
another process of the bot) keep working. Errors are reported to the learner through the one
error handler instead of discord.py's log-only default.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Generic, TypeVar

import discord

from bot.errors import NotAllowedError, NotFoundError
from bot.exts._errors import report_error
from bot.ui import custom_ids as ids

K = TypeVar("K", bound=ids.CustomId)

STALE_BUTTON = (
    "This button no longer works (it is from an older message). Run the command again, "
    "e.g. /lesson or /quiz."
)


class Click(Generic[K]):
    """Mixin for :class:`discord.ui.DynamicItem` button handlers of one custom id kind.

    Subclasses set :attr:`key_type`, pass ``template=key_type.pattern`` to the class and
    implement :meth:`clicked`.
    """

    key_type: ClassVar[type[ids.CustomId]]
    key: K | None

    def __init__(self, item: discord.ui.Button[Any], key: K | None) -> None:
        super().__init__(item)  # type: ignore[call-arg]  # DynamicItem.__init__
        self.key = key

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Any:
        """Rebuild the handler from the clicked button (never raises: see :meth:`callback`)."""
        key = ids.parse_match(cls.key_type, match)
        return cls(item, key)  # type: ignore[arg-type]

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run :meth:`clicked`, reporting any error to the learner."""
        try:
            if self.key is None:
                raise NotFoundError(STALE_BUTTON)
            await self.clicked(interaction, self.key)
        except Exception as exc:
            await report_error(interaction, exc)

    async def clicked(self, interaction: discord.Interaction[Any], key: K) -> None:
        """Handle a click on a button carrying ``key``."""
        raise NotImplementedError


def require_owner(interaction: discord.Interaction[Any], owner_id: int, refusal: str) -> None:
    """Refuse (politely, with ``refusal``) a click by anyone but the button's owner."""
    if interaction.user.id != owner_id:
        raise NotAllowedError(refusal)
