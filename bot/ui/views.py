"""Generic button helpers; each button carries its state in its custom id.

Clicks are handled by :class:`discord.ui.DynamicItem` classes the Discord extensions register
at start-up, matched on the custom id alone; so the views built here have no callbacks and are
never kept in memory (see :class:`StaticView`).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.ui import custom_ids as ids
from bot.ui.limits import BUTTON_LABEL_MAX
from bot.ui.text import truncate

#: The text input of the numeric-answer modal.
NUMBER_INPUT_ID = "value"
NUMBER_INPUT_MAX = 40


class StaticView(discord.ui.View):
    """A row of buttons that discord.py sends but does not keep.

    The view is marked finished as it is built, which tells discord.py not to store it per
    message: its clicks go to the DynamicItems registered for its custom ids (which also serve
    messages sent before a restart), so a stored copy would only grow memory forever.
    """

    def __init__(self, *items: discord.ui.Item[Any]) -> None:
        super().__init__(timeout=None)
        for item in items:
            self.add_item(item)
        self.stop()


def button(
    label: str,
    custom_id: ids.CustomId,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    disabled: bool = False,
    row: int | None = None,
) -> discord.ui.Button[Any]:
    """A button with a label cut to Discord's limit and an encoded custom id."""
    return discord.ui.Button(
        label=truncate(label, BUTTON_LABEL_MAX),
        custom_id=custom_id.encode(),
        style=style,
        disabled=disabled,
        row=row,
    )


def submitted_value(data: Any, input_id: str = NUMBER_INPUT_ID) -> str | None:
    """The text typed into ``input_id`` in a modal submission's raw ``data``.

    Handles both shapes Discord sends: inputs inside action rows, and inputs inside labels.
    """
    stack = list((data or {}).get("components") or [])
    while stack:
        component = stack.pop(0)
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == input_id and "value" in component:
            value = component["value"]
            return value if isinstance(value, str) else None
        stack.extend(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            stack.append(component["component"])
    return None
