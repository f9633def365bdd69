"""``tutorbot forget``: what ``/forget-me`` does, for an operator acting on a learner's request."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli._common import start
from bot.settings import Settings

DESCRIPTION = """\
Forget a learner: delete their name, server memberships and everything they wrote (feedback
comments, /ask questions), and move their quiz answers and reading progress to an anonymous id
of their own, so the course statistics stay true. The same as the learner's own /forget-me.
Messages already posted in Discord are not touched.
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``forget`` to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "forget", help="forget a learner (what /forget-me does), by Discord user id",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("user_id", type=int, help="the learner's Discord user id")
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run ``tutorbot forget``; returns the exit status (1 when nothing was stored)."""
    settings = start(args, quiet=True)
    return asyncio.run(forget(settings, args.user_id))


async def forget(settings: Settings, user_id: int) -> int:
    """Forget ``user_id`` in the configured database and print what was done."""
    from bot.app import build_app
    from bot.services.privacy import forget_learner, rows_naming

    app = await build_app(settings)
    try:
        async with app.db.sessions.begin() as session:
            done = await forget_learner(session, user_id)
        async with app.db.sessions() as session:
            left = await rows_naming(session, user_id)
    finally:
        await app.close()
    print(done.summary())
    if left:  # pragma: no cover - the privacy tests keep this empty
        print(f"Rows still naming {user_id}: {left}")
        return 1
    return 0 if done.existed else 1
