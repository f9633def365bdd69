"""``tutorbot lessons``: course content tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli._common import settings_of, start

if TYPE_CHECKING:
    from bot.settings import Settings


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``lessons`` and its actions to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "lessons", help="course content tools", description="Course content tools."
    )
    actions = parser.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    check_parser = actions.add_parser(
        "check", help="validate lesson files and list every problem",
        description="Validate every lesson and quiz file; print each error as file:line: "
        "message, then the item-writing warnings as file:line: [rule] message, then the quiz "
        "figures. Exit 1 if there are errors (or, with --strict, warnings).",
    )
    check_parser.add_argument("directory", nargs="?", type=Path,
                              help="lessons folder (default: the configured lessons folder)")
    check_parser.add_argument("--strict", action="store_true",
                              help="treat item-writing warnings as errors (exit 1 on any warning)")
    actions.add_parser(
        "reload", help="validate the configured lessons folder and tell running bots to reload",
        description="Validate the configured lessons folder (as `check` does). If it is valid, "
        "publish its content hash in the database: every running bot process checks it within "
        "reload.poll_seconds (30 s) and reloads from its own lessons folder if that folder's "
        "files hash the same (otherwise it logs a warning and keeps its course). This command "
        "cannot reach a running process directly; it changes nothing if the course is "
        "invalid. Exit 1 on problems.",
    )
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the chosen action; returns the exit status."""
    if args.lessons_command == "reload":
        return reload(start(args, quiet=True))
    return check(args.directory or settings_of(args).paths.lessons_dir, strict=args.strict)


def reload(settings: Settings) -> int:
    """Validate the configured lessons folder and publish its hash for running processes."""
    from bot.db.engine import open_database
    from bot.services.reload import publish_folder

    folder = settings.paths.lessons_dir

    async def publish() -> int:
        db = await open_database(settings.database_url)
        try:
            outcome = await publish_folder(db, folder)
        finally:
            await db.dispose()
        if not outcome.ok:
            for problem in outcome.problems:
                print(problem)
            print(f"{len(outcome.problems)} problem(s) in {folder}: nothing was published; "
                  "running bots keep their course.", file=sys.stderr)
            return 1
        course = outcome.course
        assert course is not None
        seconds = f"{settings.reload.poll_seconds:g}"
        print(f"{folder}: {len(course.lessons)} lessons, {len(course.snippets)} snippets, "
              f"{len(course.questions)} questions; content hash {course.content_hash[:12]} "
              + ("(already published)." if outcome.unchanged else "published."))
        print(f"Running bots reload within {seconds} s if their lessons folder hashes the same "
              "(each one logs \"course reloaded\", or a warning that its folder differs).")
        return 0

    return asyncio.run(publish())


def check(target: Path, *, strict: bool = False) -> int:
    """Validate the course in ``target``; print every problem; 1 if there are any.

    Item-writing warnings follow; with ``strict`` they fail the check too.
    """
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
