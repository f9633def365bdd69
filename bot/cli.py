"""The ``tutorbot`` command line: run the bot, the local console, ask questions, manage data.

Every entry point that touches the database upgrades it first (:func:`bot.app.build_app`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.errors import TutorError
from bot.settings import Settings, load_settings

DESCRIPTION = """\
tutorbot teaches the course "Generative AI fundamentals" on Discord: short lessons, quizzes
with buttons, questions answered from the course, progress, streaks and a leaderboard.

With nothing configured it uses SQLite in ./data and the local model. Settings come from
config.toml (see config.example.toml) and TUTORBOT_<SECTION>__<KEY> environment variables;
secrets only from DISCORD_TOKEN and ANTHROPIC_API_KEY.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutorbot", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tutorbot {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="settings file (default: $TUTORBOT_CONFIG, then ./config.toml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="start the Discord bot (needs DISCORD_TOKEN)",
        description="Start the Discord bot with the token in DISCORD_TOKEN. Without a token, "
        "in a terminal it explains how to get one and offers the local console; without a "
        "terminal it exits with status 2.",
    )
    run.add_argument("--no-console-offer", action="store_true",
                     help="never offer the console; just fail when the token is missing")

    commands.add_parser(
        "console", help="take the course in this terminal (no Discord needed)",
        description="The bot's commands as text lines (/lesson, /quiz, /progress, ...), on the "
        "same services and database, as a local learner. Reads commands line by line when "
        "standard input is not a terminal and exits 0 at its end. Type /help inside.",
    )

    ask = commands.add_parser(
        "ask", help="answer questions about the course",
        description="Answer one question, or one per line from standard input.",
    )
    from bot.ask_cli import add_arguments

    add_arguments(ask)

    db = commands.add_parser("db", help="database maintenance",
                             description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration and exit",
                           description="Apply every pending migration (the bot also does this "
                           "at start-up) and print the revision.")

    lessons = commands.add_parser("lessons", help="course content tools",
                                  description="Course content tools.")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", metavar="ACTION",
                                             required=True)
    check = lesson_commands.add_parser(
        "check", help="validate lesson files and list every problem",
        description="Validate every lesson and quiz file; print each error as file:line: "
        "message, then the item-writing warnings as file:line: [rule] message, then the quiz "
        "figures. Exit 1 if there are errors (or, with --strict, warnings).",
    )
    check.add_argument("directory", nargs="?", type=Path,
                       help="lessons folder (default: the configured lessons folder)")
    check.add_argument("--strict", action="store_true",
                       help="treat item-writing warnings as errors (exit 1 on any warning)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _lessons_check(target: Path, *, strict: bool = False) -> int:
    from bot.content.lint import lint_course
    from bot.content.loader import check_course

    course, problems = check_course(target)
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {target}", file=sys.stderr)
        return 1
    assert course is not None
    lint = lint_course(course, target)
    for warning in lint.warnings:
        print(warning)
    print(lint.summary())
    verdict = "OK"
    if lint.warnings:
        verdict = (f"{len(lint.warnings)} warning(s), failing (--strict)" if strict
                   else f"OK with {len(lint.warnings)} warning(s) (--strict fails on them)")
    print(f"{target}: {len(course.lessons)} lessons, {len(course.snippets)} snippets, "
          f"{len(course.questions)} questions: {verdict}")
    return 1 if strict and lint.warnings else 0


async def _db_upgrade(settings: Settings) -> int:
    from bot.db.engine import open_database, safe_url
    from bot.db.migrate import current_revision

    db = await open_database(settings.database_url)
    try:
        revision = await current_revision(db.engine)
    finally:
        await db.dispose()
    print(f"{safe_url(settings.database_url)} is at revision {revision}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tutorbot`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "lessons":
            return _lessons_check(args.directory or _settings(args).paths.lessons_dir,
                                  strict=args.strict)
        settings = _settings(args)
        from bot.log import setup_logging

        # The console and `ask` talk to a person (or a pipe) on stdout: keep routine INFO
        # lines out of their way unless DEBUG was asked for.
        quiet = args.command in {"console", "ask"} and settings.log.level == "INFO"
        setup_logging("WARNING" if quiet else settings.log.level)
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "console":
            from bot.console import run_console

            return asyncio.run(run_console(settings))
        if args.command == "ask":
            from bot.ask_cli import main as ask_main

            return ask_main(settings, args)
        if args.command == "run":
            from bot.runner import run

            return run(settings, offer_console=not args.no_console_offer)
    except TutorError as exc:
        print(f"tutorbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return 2
