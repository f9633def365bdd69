"""How reminders look: /remind's replies and the reminder DM with its buttons."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.exts.daily._render import ts
from bot.services.learners import local_now
from bot.services.reminders import REVIEW_NOW, SNOOZE
from bot.ui import custom_ids as ids
from bot.ui.embeds import notice
from bot.ui.text import plural
from bot.ui.views import StaticView, button

if TYPE_CHECKING:  # result types only: rendering never calls a service
    from bot.services.reminders import ReminderToSend, ReminderView

OFF = "\U0001f515 Reminders are off. `/remind on` starts them again."
WERE_OFF = "Your reminders were already off. `/remind on` starts them."


def turned_on(view: ReminderView, now: datetime) -> str:
    """What /remind on says: when, in which zone, and how to change the zone."""
    lines = [
        f"\u23f0 Reminders are on: I'll DM you at **{view.local_time:%H:%M}** ({view.timezone}) "
        f"on days when at least {plural(view.min_due, 'review')} are due.",
    ]
    if view.next_at is not None:
        lines.append(f"Next check: {ts(view.next_at)}.")
    if view.default_zone:
        local = local_now(view.timezone, now)
        lines.append(
            f"That time is in **{view.timezone}**, the bot's default time zone (it is "
            f"{local:%H:%M} there now). Set yours with `/settings timezone`, e.g. "
            "`Europe/Berlin`."
        )
    lines.append("I need to be able to DM you: keep direct messages open for a server we share.")
    return notice("\n".join(lines))


def reminder_content(reminder: ReminderToSend) -> str:
    """The reminder DM's text."""
    lead = "\u23f0 Still time for a review? " if reminder.resend else "\u23f0 Time to review! "
    return notice(
        f"{lead}{plural(reminder.due, 'question')} "
        f"{'is' if reminder.due == 1 else 'are'} due: reviewing {'it' if reminder.due == 1 else 'them'} "
        "now, just before you would forget, is what makes it stick. `/review` works any time."
    )


def reminder_view(reminder: ReminderToSend) -> StaticView:
    """"Review 5 now", "Snooze 1 h" (not on the snoozed re-send) and "Turn off"."""
    learner = reminder.learner_id
    items = [
        button(f"Review {REVIEW_NOW} now", ids.ReminderAction(learner, "review"),
               style=discord.ButtonStyle.primary),
    ]
    if not reminder.resend:
        items.append(button(f"Snooze {int(SNOOZE.total_seconds() // 3600)} h",
                            ids.ReminderAction(learner, "snooze")))
    items.append(button("Turn off", ids.ReminderAction(learner, "off"),
                        style=discord.ButtonStyle.danger))
    return StaticView(*items)


def after_snooze_view(learner_id: int) -> StaticView:
    """A snoozed reminder keeps "Review now" and "Turn off"."""
    return StaticView(
        button(f"Review {REVIEW_NOW} now", ids.ReminderAction(learner_id, "review"),
               style=discord.ButtonStyle.primary),
        button("Turn off", ids.ReminderAction(learner_id, "off"),
               style=discord.ButtonStyle.danger),
    )


def snoozed(until: datetime) -> str:
    """The reminder DM after "Snooze"."""
    return notice(f"\U0001f4a4 Snoozed: I'll remind you once more {ts(until, 'R')}.")
