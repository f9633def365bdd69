"""``tutorbot run``: start the Discord bot, or help a newcomer who has no token yet."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Any, TextIO

from pydantic import ValidationError

from bot.cli._common import start
from bot.errors import ConfigError, ExitStatus
from bot.settings import DiscordSettings, Settings, describe_errors

log = logging.getLogger(__name__)

#: What a supervisor (docker stop, systemd, Ctrl-C) sends to stop the bot gracefully.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

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
        "terminal it exits with status 78. SIGTERM or SIGINT stops it gracefully (status 0).",
    )
    parser.add_argument("--no-console-offer", action="store_true",
                        help="never offer the console; just fail when the token is missing")
    parser.add_argument("--shard-count", type=int, metavar="N",
                        help="total number of shards (setting discord.shard_count)")
    parser.add_argument("--shard-ids", metavar="IDS",
                        help="the shards this process connects, e.g. 0,1 (discord.shard_ids; "
                        "needs the shard count)")
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run ``tutorbot run``; returns the exit status."""
    settings = start(args)
    if args.shard_count is not None or args.shard_ids is not None:
        settings = with_shards(settings, args.shard_count, args.shard_ids)
    return run(settings, offer_console=not args.no_console_offer)


def with_shards(settings: Settings, shard_count: int | None, shard_ids: str | None) -> Settings:
    """``settings`` with the shard options of the command line, validated like the file's."""
    section = settings.discord.model_dump()
    if shard_count is not None:
        section["shard_count"] = shard_count
    if shard_ids is not None:
        section["shard_ids"] = shard_ids
    try:
        discord = DiscordSettings.model_validate(section)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, "command line")) from None
    return settings.model_copy(update={"discord": discord})


def run(settings: Settings, *, offer_console: bool = True,
        stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the bot until it is stopped (SIGTERM, SIGINT). Returns the process exit status."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if settings.discord_token is None:
        interactive = stdin.isatty() and stdout.isatty()
        print(NO_TOKEN, file=sys.stderr)
        if not (interactive and offer_console):
            return ExitStatus.CONFIG
        print("\nStart the local console now? [Y/n] ", end="", file=stdout, flush=True)
        answer = stdin.readline().strip().lower()
        if answer not in {"", "y", "yes"}:
            return ExitStatus.CONFIG
        from bot.console import run_console

        if settings.log.level == "INFO":  # as `tutorbot console` does: keep the screen clean
            logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_console(settings))
    return _serve(settings)


def _serve(settings: Settings) -> int:
    """Run the bot on a new event loop; exit without waiting for busy background threads.

    ``asyncio.run`` would wait, after a clean stop, for every thread of the default executor:
    the tutor's first load embeds the course in one (half a minute on a slow machine), and a
    supervisor's stop timeout is shorter. Its work is written atomically, so nothing is lost
    by not waiting once the app has stopped and the database is closed.
    """
    loop = asyncio.new_event_loop()
    try:
        try:
            status: int = loop.run_until_complete(_run_discord(settings))
        except asyncio.CancelledError:  # a second signal: stop without waiting
            status = ExitStatus.INTERRUPTED
        finally:
            _finish(loop)
    finally:
        loop.close()
    busy = [thread for thread in threading.enumerate()
            if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()]
    if busy:
        log.info("not waiting for %d background thread(s): %s", len(busy),
                 ", ".join(thread.name for thread in busy))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still pending and close async generators (as ``asyncio.run`` does)."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


async def _run_discord(settings: Settings) -> int:
    """Start the app with the Discord connection as its first worker; stop on a signal.

    On SIGTERM or SIGINT: new interactions get a short "restarting" reply, those in flight
    finish (within ``lifecycle.stop_timeout_s``), the workers stop in reverse order (the
    Discord connection last), the database closes, and the status is 0. A second signal
    stops at once.
    """
    from bot.app import build_app
    from bot.bot import DiscordWorker, create_bot

    assert settings.discord_token is not None
    app = await build_app(settings)
    worker = DiscordWorker(create_bot(app), settings.discord_token.get_secret_value())
    app.register_worker(worker)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    main = asyncio.current_task()

    def on_signal(number: int) -> None:
        if stopping.is_set():
            log.warning("second %s: stopping now", signal.Signals(number).name)
            if main is not None:
                main.cancel()
            return
        app.admission.close()  # at once: nothing new is admitted from here on
        log.info("%s: stopping (new interactions are refused, those in flight finish)",
                 signal.Signals(number).name)
        stopping.set()

    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
    try:
        try:
            await app.start()
        except BaseException:
            await app.stop(within_s=2.0)
            raise
        assert worker.connection is not None
        waiter = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({waiter, worker.connection}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        ended = worker.connection.done() and not stopping.is_set()
        await app.stop()
        if ended:
            worker.connection.result()  # raises what ended the connection
            log.error("the Discord connection ended on its own")
            return ExitStatus.BUG
        log.info("stopped")
        return ExitStatus.OK
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
