"""The ``tutorbot`` command line: run the bot, the local console, ask questions, manage data.

Each subcommand is a module of this package with ``add_parser(commands)``, which adds its
sub-parser and sets the function that runs it (``args.handler(args) -> exit status``). The table
:data:`SUBCOMMANDS` lists them in the order ``tutorbot --help`` shows. Every entry point that
touches the database upgrades it first (:func:`bot.app.build_app`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.cli import ask, console, db, forget, lessons, report, run
from bot.errors import ExitStatus, TutorError, exit_status_for

DESCRIPTION = """\
tutorbot teaches the course "Generative AI fundamentals" on Discord: short lessons, quizzes
with buttons, questions answered from the course, progress, streaks and a leaderboard.

With nothing configured it uses SQLite in ./data and the local model. Settings come from
config.toml (see config.example.toml) and TUTORBOT_<SECTION>__<KEY> environment variables;
secrets only from DISCORD_TOKEN and ANTHROPIC_API_KEY.
"""

#: Every subcommand, in the order of ``tutorbot --help``.
SUBCOMMANDS = (run, console, ask, db, lessons, report, forget)


def build_parser() -> argparse.ArgumentParser:
    """The ``tutorbot`` parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="tutorbot", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tutorbot {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="settings file (default: $TUTORBOT_CONFIG, then ./config.toml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tutorbot`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status: int = args.handler(args)
        return status
    except TutorError as exc:
        print(f"tutorbot: {exc}", file=sys.stderr)
        return exit_status_for(exc)
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
