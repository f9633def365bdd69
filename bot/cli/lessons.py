"""``tutorbot lessons``: course content tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli._common import settings_of


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
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the chosen action (today: ``check``); returns the exit status."""
    return check(args.directory or settings_of(args).paths.lessons_dir, strict=args.strict)


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
