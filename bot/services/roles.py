"""Who someone is to the bot: a learner, a moderator or a maintainer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What /help shows: each role sees its own section on top of the learner's."""

    LEARNER = "learner"
    MODERATOR = "moderator"
    MAINTAINER = "maintainer"
