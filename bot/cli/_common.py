"""What the subcommands share: settings from ``--config`` and logging set up once."""

from __future__ import annotations

import argparse
import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from bot.settings import Settings, load_settings

T = TypeVar("T")


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings named by ``--config`` (or the default places)."""
    return load_settings(args.config)


def start(args: argparse.Namespace, *, quiet: bool = False) -> Settings:
    """Load the settings and set up logging for a subcommand.

    ``quiet`` subcommands talk to a person (or a pipe) on stdout: routine INFO lines are kept
    out of their way unless DEBUG was asked for.
    """
    from bot.log import setup_logging

    settings = settings_of(args)
    quiet = quiet and settings.log.level == "INFO"
    setup_logging(
        "WARNING" if quiet else settings.log.level,
        settings.log.format,
        secrets=known_secrets(settings),
    )
    return settings


def known_secrets(settings: Settings) -> list[str]:
    """The configured secret values, which the log filter removes wherever they appear."""
    values = [settings.discord_token, settings.anthropic_api_key]
    found = [value.get_secret_value() for value in values if value is not None]
    if settings.database.url:
        from sqlalchemy.engine import make_url

        password = make_url(settings.database.url).password
        if password:
            found.append(str(password))
    return found


async def read_blocking(read: Callable[[], T]) -> T:
    """``read()`` (``input``, ``readline``) in a daemon thread, awaited without blocking the loop.

    Not ``asyncio.to_thread``: on Ctrl-C, ``asyncio.run`` waits for the default executor's
    threads, and one blocked in ``input()`` would keep the process alive until Enter. A daemon
    thread is simply left behind, so Ctrl-C exits at once (status 130).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value = read()
        except BaseException as exc:  # EOFError, a decoding error: handed to the awaiting side
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=run, name="read input", daemon=True).start()
    return await future
