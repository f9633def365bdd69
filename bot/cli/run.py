"""``tutorbot run``: start the Discord bot, or help a newcomer who has no token yet."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any, TextIO

from bot.cli._common import start
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_TOKEN = """\
No Discord token: set DISCORD_TOKEN to run the bot on Discord.

  1. Open https://discord.com/developers/applications and create an application.
  2. Under "Bot", reset the token and copy it (keep it secret).
  3. export DISCORD_TOKEN=... and run this command again.
  (README.md, section "Running on Discord", has the invite link and permissions.)

You can take the whole course without Discord: tutorbot console"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``run`` to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "run", help="start the Discord bot (needs DISCORD_TOKEN)",
        description="Start the Discord bot with the token in DISCORD_TOKEN. Without a token, "
        "in a terminal it explains how to get one and offers the local console; without a "
        "terminal it exits with status 2.",
    )
    parser.add_argument("--no-console-offer", action="store_true",
                        help="never offer the console; just fail when the token is missing")
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run ``tutorbot run``; returns the exit status."""
    return run(start(args), offer_console=not args.no_console_offer)


def run(settings: Settings, *, offer_console: bool = True,
        stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the bot until it is stopped. Returns the process exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if settings.discord_token is None:
        interactive = stdin.isatty() and stdout.isatty()
        print(NO_TOKEN, file=sys.stderr)
        if not (interactive and offer_console):
            return 2
        print("\nStart the local console now? [Y/n] ", end="", file=stdout, flush=True)
        answer = stdin.readline().strip().lower()
        if answer not in {"", "y", "yes"}:
            return 2
        from bot.console import run_console

        if settings.log.level == "INFO":  # as `tutorbot console` does: keep the screen clean
            logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_console(settings))
    return asyncio.run(_run_discord(settings))


async def _run_discord(settings: Settings) -> int:
    from bot.app import build_app
    from bot.bot import run_bot

    assert settings.discord_token is not None
    app = await build_app(settings)
    try:
        await run_bot(app, settings.discord_token.get_secret_value())
    finally:
        await app.close()
    return 0
