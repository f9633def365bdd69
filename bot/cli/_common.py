"""What the subcommands share: settings from ``--config`` and logging set up once."""

from __future__ import annotations

import argparse

from bot.settings import Settings, load_settings


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings named by ``--config`` (or the default places)."""
    return load_settings(args.config)


def start(args: argparse.Namespace, *, quiet: bool = False) -> Settings:
    """Load the settings and set up logging for a subcommand.

    ``quiet`` subcommands talk to a person (or a pipe) on stdout: routine INFO lines are kept
    out of their way unless DEBUG was asked for.
    """
    from bot.log import setup_logging

    settings = settings_of(args)
    quiet = quiet and settings.log.level == "INFO"
    setup_logging("WARNING" if quiet else settings.log.level)
    return settings
