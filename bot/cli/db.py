"""``tutorbot db``: database maintenance (upgrade, backup, check, restore)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
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
    backup = actions.add_parser(
        "backup", help="copy the SQLite database to PATH, safely while the bot runs",
        description="Copy the SQLite database to PATH in one consistent step (VACUUM INTO), "
        "while the bot keeps running. PATH must not exist yet. On PostgreSQL this explains "
        "pg_dump instead and exits with status 2.")
    backup.add_argument("path", type=Path, metavar="PATH", help="the new backup file")
    actions.add_parser(
        "check", help="tell whether the SQLite database file is damaged",
        description="Run SQLite's quick_check on the database and say in one line whether "
        "the file is damaged and how to restore it. Exit status 1 when it is damaged.")
    restore = actions.add_parser(
        "restore", help="replace the SQLite database with the backup PATH (bot stopped)",
        description="Stop the bot first. Checks that PATH is a sound tutorbot database "
        "whose migration revision this code knows, upgrades a copy of it to the newest "
        "revision, keeps the current database as <name>.before-restore (with its write-ahead "
        "log) and puts the copy in its place. Refused backups change nothing.")
    restore.add_argument("path", type=Path, metavar="PATH", help="the backup file to restore")
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the chosen action; returns the exit status."""
    settings = start(args)
    if args.db_command == "upgrade":
        return asyncio.run(upgrade(settings))
    # Backup, check and restore work on the file as it is: no migration first (a check must
    # not write to a damaged file; a restore upgrades the restored copy itself).
    from bot.db.backup import pg_dump_hint, sqlite_file

    path = sqlite_file(settings.database_url)
    if path is None:
        if args.db_command == "check":
            print("The database is PostgreSQL, which checks its own pages; `tutorbot db "
                  "check` is for SQLite (for PostgreSQL see the pg_amcheck tool).",
                  file=sys.stderr)
        else:
            print(pg_dump_hint(settings.database_url, args.path,
                               restore=args.db_command == "restore"), file=sys.stderr)
        return 2
    if args.db_command == "backup":
        return backup(path, args.path)
    if args.db_command == "check":
        return check(path)
    with _no_job_runner(settings.database_url):
        _no_heartbeat(path)
        return restore(path, args.path)


def backup(database: Path, destination: Path) -> int:
    """``tutorbot db backup PATH``."""
    from bot.db.backup import backup as copy

    size = copy(database, destination)
    print(f"Backed up {database} to {destination} ({size:,} bytes).")
    return 0


def check(database: Path) -> int:
    """``tutorbot db check``: exit status 1 when the file is damaged."""
    from bot.db.backup import check as quick_check
    from bot.db.backup import describe_check

    result = quick_check(database)
    print(describe_check(result))
    return 0 if result.ok else 1


def restore(database: Path, source: Path) -> int:
    """``tutorbot db restore PATH``."""
    from bot.db.backup import restore as put_back

    result = put_back(source, database)
    revision = f"revision {result.from_revision}"
    if result.to_revision != result.from_revision:
        revision += f", upgraded to {result.to_revision}"
    kept = f"; the previous database is kept as {result.kept}" if result.kept else ""
    print(f"Restored {result.target} from {result.source} ({revision}){kept}.")
    return 0


@contextlib.contextmanager
def _no_job_runner(database_url: str) -> Iterator[None]:
    """Refuse to go on while a bot process runs the jobs on this SQLite file.

    A running bot with jobs enabled (the default) holds an exclusive lock on
    ``<database>.jobs.lock`` (:mod:`bot.jobs.leader`); the restore holds it too while it works.
    A bot with ``jobs.enabled = false`` is seen by its heartbeat (:func:`_no_heartbeat`).
    """
    import fcntl

    from bot.db.backup import BackupError
    from bot.jobs.leader import FileLockLeadership, leadership_for

    leadership = leadership_for(database_url)
    if not isinstance(leadership, FileLockLeadership) or not leadership.path.exists():
        yield
        return
    fd = os.open(leadership.path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackupError(
                f"A tutorbot process is running on this database (it holds {leadership.path}): "
                "stop it, then restore. Nothing was restored."
            ) from None
        yield
    finally:
        os.close(fd)


def _no_heartbeat(database: Path) -> None:
    """Refuse while a running bot's heartbeat in the database is younger than a minute.

    Every running bot writes one every 15 s and removes it when it stops cleanly; a bot that
    was killed leaves one that is too old within a minute. A console session writes none: the
    help and the README say to stop everything that uses the file first.
    """
    from bot.db.backup import BackupError, running_heartbeats

    if not database.exists():
        return
    running = running_heartbeats(database)
    if running:
        raise BackupError(
            f"A tutorbot process is running on this database (its heartbeat: "
            f"{'; '.join(running)}): stop it, then restore (a bot that was killed is "
            "forgotten a minute after its last heartbeat). Nothing was restored."
        )


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
