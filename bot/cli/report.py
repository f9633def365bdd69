"""``tutorbot report``: the maintainers' report, written to a folder from the configured database."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.cli._common import start
from bot.errors import InvalidInputError
from bot.settings import Settings

DESCRIPTION = """\
Write the course report for maintainers into a folder: index.html (a self-contained page with
charts and sortable tables; open it in any browser, offline), items.csv/json (item analysis of
every quiz question), feedback.csv/json, lessons.csv, the charts as PNG, and summary.md.

It reads the configured database (all guilds unless --guild is given). The item analysis uses
each learner's first answer to each question unless --all-answers is given.
"""

_RELATIVE = re.compile(r"^(\d+)\s*([dhw])$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2026-11-01``, ``2026-11-01T09:00`` (UTC unless an offset is given) or ``7d``/``12h``/``2w``."""
    value = text.strip()
    match = _RELATIVE.match(value.lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount),
                 "w": timedelta(weeks=amount)}[unit]
        return (now or datetime.now(UTC)) - delta
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"--since {text!r} is not a date: use 2026-11-01, 2026-11-01T09:00, or 7d / 12h / 2w."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "report", help="write the maintainers' course report (HTML, CSV, charts)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder to write the report into (created if missing)")
    parser.add_argument("--since", metavar="WHEN",
                        help="only answers, feedback and questions from then on "
                        "(2026-11-01, 2026-11-01T09:00, 7d, 12h, 2w)")
    parser.add_argument("--guild", type=int, metavar="ID",
                        help="only this Discord server (its id)")
    parser.add_argument("--all-answers", action="store_true",
                        help="item analysis over every answer, not only each learner's first")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=command)
    return parser


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.report.data import gather
    from bot.report.render import write_report

    since = parse_since(args.since) if args.since else None
    bar = tqdm(total=8, desc="Report", unit="step", disable=args.no_progress or None,
               file=sys.stderr, leave=False)
    with bar:
        app = await build_app(settings)
        try:
            bar.set_postfix_str("loading the local model")
            embed = await asyncio.to_thread(_embedder)
            bar.update(1)
            bar.set_postfix_str("reading the database")
            async with app.db.sessions() as session:
                data = await gather(
                    session, app.course, since=since, guild_id=args.guild,
                    include_all_answers=args.all_answers, embed=embed,
                )
            bar.update(1)
        finally:
            await app.close()

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        files = await asyncio.to_thread(write_report, data, args.out, step=step)
    index = args.out / "index.html"
    print(f"Wrote {len(files)} files to {args.out}: open {index} in a browser.")
    if data.empty:
        print("The database has no answers, feedback or /ask questions yet"
              + (" in that filter." if since or args.guild else "."))
    else:
        print(f"{len(data.items)} questions analysed, {len(data.flagged)} flagged; "
              f"{len(data.feedback)} feedback items; {data.ask_questions} /ask questions.")
    return 0


def _embedder() -> Callable[[Sequence[str]], object] | None:
    """The local embedder's ``embed``, or ``None`` when the model can't be loaded."""
    from bot.qa.embedder import Embedder, ModelUnavailableError

    try:
        return Embedder.shared().embed
    except ModelUnavailableError as exc:
        print(f"tutorbot report: not grouping /ask questions ({exc})", file=sys.stderr)
        return None


def command(args: argparse.Namespace) -> int:
    """Run ``tutorbot report``; returns the exit status."""
    settings = start(args, quiet=True)
    return asyncio.run(_run(settings, args))
