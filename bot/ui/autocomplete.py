"""Autocomplete choices, within Discord's limits (25 choices, 100 characters each)."""

from __future__ import annotations

from collections.abc import Sequence

from discord import app_commands

from bot.content.model import Lesson
from bot.ui.limits import AUTOCOMPLETE_CHOICES_MAX, CHOICE_NAME_MAX, CHOICE_VALUE_MAX
from bot.ui.text import truncate


def lesson_choices(lessons: Sequence[Lesson]) -> list[app_commands.Choice[str]]:
    """``7. Pre-training`` for each lesson; the value is the lesson id."""
    return [
        app_commands.Choice(
            name=truncate(f"{lesson.number}. {lesson.title}", CHOICE_NAME_MAX), value=lesson.id
        )
        for lesson in lessons[:AUTOCOMPLETE_CHOICES_MAX]
        if len(lesson.id) <= CHOICE_VALUE_MAX
    ]


def text_choices(values: Sequence[str]) -> list[app_commands.Choice[str]]:
    """Plain values as choices (time zones, for instance); over-long values are left out."""
    return [
        app_commands.Choice(name=value, value=value)
        for value in values
        if len(value) <= min(CHOICE_NAME_MAX, CHOICE_VALUE_MAX)
    ][:AUTOCOMPLETE_CHOICES_MAX]
