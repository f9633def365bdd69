"""Errors written for people.

Every :class:`TutorError` carries a message a learner (or operator) can read as it is. The
Discord error handler and the console print ``str(error)``; anything that is *not* a
``TutorError`` is a bug, logged once with its traceback and shown as a short apology with an id.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """The exit statuses of ``tutorbot`` (README, "Exit statuses"); sysexits.h where it has one."""

    OK = 0  # stopped normally (also after SIGTERM/SIGINT to `run`)
    BUG = 1  # an unexpected error: the traceback is on standard error
    USAGE = 2  # a bad command line
    UNAVAILABLE = 69  # a dependency (database, Discord) could not be reached at start: retry
    CONFIG = 78  # the configuration is wrong (settings, token, course content): fix, then start
    INTERRUPTED = 130  # Ctrl-C in `console` or `ask`


class TutorError(Exception):
    """Base class: the message is safe and meant to be shown to the user."""


class ConfigError(TutorError):
    """The settings are invalid (bad file, bad value, unknown key)."""


class DependencyUnavailableError(TutorError):
    """Something the bot needs (the database, Discord) cannot be reached at start-up.

    A supervisor should retry later: the exit status is 69 (``EX_UNAVAILABLE``).
    """


class DatabaseUnavailableError(DependencyUnavailableError):
    """The database cannot be reached or opened at start-up."""


class DatabaseBusyError(TutorError):
    """Another process held the database's write lock past the deadline; nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            "The database is busy right now and nothing was saved; please try again in a moment."
        )


class NotFoundError(TutorError):
    """Something the user named does not exist (a lesson, a quiz, a question)."""


class InvalidInputError(TutorError):
    """The user's input cannot be used as it is (too long, not a number, unknown zone...)."""


class NotAllowedError(TutorError):
    """The user may not do this (someone else's button, a missing role)."""


class RateLimitedError(TutorError):
    """The user is asking too fast; the message says when to try again."""


class CourseError(TutorError):
    """The course content on disk is invalid; ``problems`` lists each one with file and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"The course content has {len(problems)} problem(s):\n{shown}{more}")


def exit_status_for(error: TutorError) -> ExitStatus:
    """The exit status for an error that stops a command."""
    if isinstance(error, ConfigError | CourseError):
        return ExitStatus.CONFIG
    if isinstance(error, DependencyUnavailableError):
        return ExitStatus.UNAVAILABLE
    return ExitStatus.USAGE  # the command's own input (a user id, a lesson name, a file)
