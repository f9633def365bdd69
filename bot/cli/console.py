"""``tutorbot console``: the bot's commands in a terminal, as a local learner."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli._common import start


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``console`` to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "console", help="take the course in this terminal (no Discord needed)",
        description="The bot's commands as text lines (/lesson, /quiz, /progress, ...), on the "
        "same services and database, as a local learner. Reads commands line by line when "
        "standard input is not a terminal and exits 0 at its end. Type /help inside.",
    )
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the console until the end of its input; returns the exit status."""
    from bot.console import run_console

    settings = start(args, quiet=True)
    return asyncio.run(run_console(settings))
