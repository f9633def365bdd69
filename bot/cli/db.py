"""``tutorbot db``: database maintenance."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli._common import start
from bot.settings import Settings


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``db`` and its actions to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "db", help="database maintenance", description="Database maintenance."
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    actions.add_parser("upgrade", help="apply every pending migration and exit",
                       description="Apply every pending migration (the bot also does this "
                       "at start-up) and print the revision.")
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the chosen action (today: ``upgrade``); returns the exit status."""
    settings = start(args)
    return asyncio.run(upgrade(settings))


async def upgrade(settings: Settings) -> int:
    """Apply every pending migration and print the revision the database is at."""
    from bot.db.engine import open_database, safe_url
    from bot.db.migrate import current_revision

    db = await open_database(settings.database_url)
    try:
        revision = await current_revision(db.engine)
    finally:
        await db.dispose()
    print(f"{safe_url(settings.database_url)} is at revision {revision}")
    return 0
