"""Backups, the damaged-file check and restores of the SQLite database (``tutorbot db ...``).

These work on the file with the standard ``sqlite3`` module, outside SQLAlchemy, and they do
not migrate the database first (unlike every other entry point): a backup copies what is
there, a check must not write to a file that may be damaged, and a restore upgrades the
restored copy itself.

Backup
    ``VACUUM INTO`` copies the database in one read transaction: a consistent snapshot at one
    committed point, taken while the bot keeps writing (in WAL mode a reader never blocks a
    writer). A stepwise copy (the backup API a few pages at a time) restarts whenever another
    connection writes and may never finish under steady traffic. The copy goes to a temporary
    file next to the destination, is flushed to disk (SQLite does not fsync the output of
    ``VACUUM INTO``), and is then hard-linked to its name, which fails if that name exists: an
    existing file is never overwritten, even by a race.

Check
    ``PRAGMA quick_check``: every page and record read once, without the index cross-checks of
    ``integrity_check`` (it takes about as long as reading the file).

Restore
    The chosen file is copied next to the live database, checked (a SQLite file, quick_check
    ok, a migration revision this code knows) and upgraded to the newest revision *before* it
    replaces anything, so a refused or failed restore leaves the live database as it was. The
    old file is kept as ``<name>.before-restore``; its write-ahead log, which may hold committed
    transactions not yet copied into the file, moves with it (``<name>.before-restore-wal``, the
    name SQLite looks for), so no stale ``-wal``/``-shm`` is left for the restored file to pick up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url

from bot.errors import TutorError

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: How long a backup or check waits for a lock another process holds (rare in WAL mode).
LOCK_WAIT_MS = 10_000
#: At most this many problems are listed by ``quick_check`` (the first one is what we show).
MAX_PROBLEMS = 10
BEFORE_RESTORE_SUFFIX = ".before-restore"
#: A heartbeat younger than this means a bot is running on the file: restore refuses.
HEARTBEAT_FRESH_S = 60.0


class BackupError(TutorError):
    """A backup, check or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class CheckResult:
    """What ``quick_check`` found: ``problems`` is empty when the file is sound."""

    path: Path
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """``True`` when quick_check passed."""
        return not self.problems


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    target: Path
    source: Path
    from_revision: str
    to_revision: str
    kept: Path | None


def sqlite_file(url: str | URL) -> Path | None:
    """The SQLite file of ``url``, or ``None`` for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ":memory:"
    if database == ":memory:" or database.startswith("file:"):
        raise BackupError(
            "The database is in memory (or a SQLite URI): there is no file to back up, check "
            "or restore. Set database.url to sqlite:///path/to/file.sqlite3."
        )
    return Path(database).expanduser()


def pg_dump_hint(url: str | URL, file: Path, *, restore: bool = False) -> str:
    """How to back up (or restore) a PostgreSQL database with its own tools, password masked."""
    parsed = make_url(url).set(drivername="postgresql")
    shown = parsed.render_as_string(hide_password=True)
    if restore:
        return (
            "The database is PostgreSQL: restore a pg_dump backup with PostgreSQL's own tools, "
            f"with the bot stopped:\n  pg_restore --clean --if-exists --dbname '{shown}' "
            f"'{file}'\nthen run `tutorbot db upgrade`. (Put the password in PGPASSWORD "
            "or ~/.pgpass, not on the command line.)"
        )
    return (
        "The database is PostgreSQL: back it up with PostgreSQL's own tool, which takes a "
        "consistent snapshot while the bot runs:\n"
        f"  pg_dump --format=custom --file '{file}' '{shown}'\n"
        "and restore it with pg_restore (see `tutorbot db restore --help`). "
        "(Put the password in PGPASSWORD or ~/.pgpass, not on the command line.)"
    )


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    """A plain connection to an *existing* file (never creates one), closed afterwards."""
    mode = "ro" if read_only else "rw"
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=LOCK_WAIT_MS / 1000)
    try:
        yield conn
    finally:
        conn.close()


def _require_sqlite_file(path: Path, what: str) -> None:
    if not path.exists():
        raise BackupError(f"{what} {path} does not exist.")
    if not path.is_file():
        raise BackupError(f"{what} {path} is not a file.")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror or type(exc).__name__}.") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database.")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _remove_with_sidecars(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        _remove(name)


def backup(source: Path, destination: Path) -> int:
    """Copy the database ``source`` to ``destination`` consistently; returns the copy's size.

    Refuses an existing ``destination`` (a file, a folder, a dangling link).
    """
    _require_sqlite_file(source, "The database")
    if os.path.lexists(destination):
        raise BackupError(f"{destination} already exists: choose a new name (nothing is "
                          "overwritten).")
    folder = destination.parent
    if not folder.is_dir():
        raise BackupError(f"The folder {folder} does not exist.")
    partial = folder / f".{destination.name}.partial-{os.getpid()}"
    _remove_with_sidecars(partial)
    try:
        with _connect(source) as conn:
            conn.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
            conn.execute("VACUUM INTO ?", (str(partial),))
        _fsync(partial)
        try:
            os.link(partial, destination)
        except FileExistsError:
            raise BackupError(f"{destination} already exists: choose a new name (nothing is "
                              "overwritten).") from None
        _fsync_folder(folder)
        return destination.stat().st_size
    except sqlite3.Error as exc:
        raise BackupError(_sqlite_reason(source, exc)) from None
    except OSError as exc:
        raise BackupError(
            f"Cannot write the backup to {destination}: {exc.strerror or type(exc).__name__}."
        ) from None
    finally:
        _remove_with_sidecars(partial)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sqlite_reason(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return (f"{path} is damaged ({text}). Run `tutorbot db check` and restore a backup "
                "with `tutorbot db restore PATH`.")
    if "locked" in text or "busy" in text:
        return f"{path} stayed locked by another process for {LOCK_WAIT_MS // 1000} s; try again."
    return f"SQLite could not use {path}: {text}."


def check(path: Path) -> CheckResult:
    """Run ``PRAGMA quick_check`` on ``path``; a file SQLite cannot even read counts as damaged."""
    _require_sqlite_file(path, "The database")
    try:
        with _connect(path) as conn:
            conn.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
            rows = conn.execute(f"PRAGMA quick_check({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise BackupError(_sqlite_reason(path, exc)) from None
        return CheckResult(path, (text,))
    problems = tuple(str(row[0]) for row in rows if row and row[0] != "ok")
    return CheckResult(path, problems)


def describe_check(result: CheckResult) -> str:
    """The one line for people that ``tutorbot db check`` prints."""
    if result.ok:
        return f"{result.path}: not damaged (SQLite quick_check passed)."
    return (
        f"{result.path} is DAMAGED (SQLite quick_check: {result.problems[0]}). Stop the bot, "
        "then restore your latest backup with `tutorbot db restore PATH` (the damaged file is "
        f"kept as {result.path.name}{BEFORE_RESTORE_SUFFIX})."
    )


def running_heartbeats(path: Path, *, fresh_s: float = HEARTBEAT_FRESH_S) -> list[str]:
    """The bot processes whose heartbeat in ``path`` is younger than ``fresh_s`` seconds.

    A running bot writes ``heartbeat:<host>:<pid>`` to ``app_state`` every 15 s
    (:mod:`bot.health`) and removes it when it stops cleanly. Returns ``host pid N s ago`` for
    each; an unreadable file (damaged, no such table yet) has none that can be read.
    """
    import json
    from datetime import UTC, datetime

    from bot.db.models.app_state import HEARTBEAT_KEY_PREFIX

    try:
        with _connect(path, read_only=True) as conn:
            conn.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
            rows = conn.execute(
                "SELECT value FROM app_state WHERE key LIKE ?", (f"{HEARTBEAT_KEY_PREFIX}%",)
            ).fetchall()
    except sqlite3.DatabaseError:
        return []
    now = datetime.now(UTC)
    running = []
    for (value,) in rows:
        try:
            beat = json.loads(value)
            at = datetime.fromisoformat(beat["at"])
        except (ValueError, KeyError, TypeError):
            continue
        age = (now - at).total_seconds()
        if -fresh_s < age < fresh_s:
            running.append(f"{beat.get('host', '?')} pid {beat.get('pid', '?')} {max(age, 0):.0f} s ago")
    return running


def _revision_of(path: Path) -> str:
    """The migration revision stored in ``path``; refuses a database that is not ours."""
    try:
        with _connect(path) as conn:
            table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall() \
                if table else []
    except sqlite3.DatabaseError as exc:
        raise BackupError(_sqlite_reason(path, exc)) from None
    if len(rows) != 1:
        raise BackupError(
            f"{path} is a SQLite database but not a tutorbot one (it has no migration "
            "revision): nothing was restored."
        )
    revision = str(rows[0][0])
    from bot.db.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"{path} is at migration revision {revision!r}, which this version of tutorbot does "
            "not know: it comes from a newer tutorbot (upgrade the code first) or is not a "
            "tutorbot database. Nothing was restored."
        )
    return revision


def _upgrade(path: Path) -> str:
    """Upgrade ``path`` to the newest revision and fold its write-ahead log back into the file."""
    from bot.db.engine import open_database
    from bot.db.migrate import current_revision

    async def run() -> str:
        db = await open_database(URL.create("sqlite", database=str(path)).render_as_string())
        try:
            return str(await current_revision(db.engine))
        finally:
            await db.dispose()

    revision = asyncio.run(run())
    with _connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return revision


def restore(source: Path, target: Path) -> RestoreResult:
    """Replace the database ``target`` with the backup ``source`` (see the module docstring).

    The caller makes sure no bot uses ``target``. Raises :class:`BackupError`, with the live
    database untouched, when the backup is not a sound tutorbot database this code can run.
    """
    _require_sqlite_file(source, "The backup")
    if target.exists() and source.resolve() == target.resolve():
        raise BackupError(f"{source} is the live database itself: name a backup file.")
    kept = Path(f"{target}{BEFORE_RESTORE_SUFFIX}")
    if target.exists() and os.path.lexists(kept):
        raise BackupError(
            f"{kept} exists from an earlier restore: move it somewhere safe first "
            "(nothing is overwritten)."
        )
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{target.name}.restore-{os.getpid()}"
    _remove_with_sidecars(staged)
    try:
        try:
            with _connect(source, read_only=True) as src, \
                    contextlib.closing(sqlite3.connect(staged)) as dst:
                src.backup(dst, pages=-1)  # one step: the source is not being written
        except sqlite3.DatabaseError as exc:
            raise BackupError(_sqlite_reason(source, exc)) from None
        result = check(staged)
        if not result.ok:
            raise BackupError(
                f"{source} is damaged (SQLite quick_check: {result.problems[0]}): choose "
                "another backup. Nothing was restored."
            )
        from_revision = _revision_of(staged)
        to_revision = _upgrade(staged)
        _fsync(staged)
        moved_to: Path | None = None
        if target.exists():
            os.rename(target, kept)
            moved_to = kept
            wal = Path(f"{target}-wal")
            if wal.exists():
                os.rename(wal, f"{kept}-wal")
        for sidecar in ("-wal", "-shm", "-journal"):
            _remove(Path(f"{target}{sidecar}"))
        try:
            os.rename(staged, target)
        except OSError:
            if moved_to is not None:  # put the old database back where it was
                os.rename(moved_to, target)
                if Path(f"{moved_to}-wal").exists():
                    os.rename(f"{moved_to}-wal", f"{target}-wal")
            raise
        _fsync_folder(folder)
    except OSError as exc:
        raise BackupError(
            f"Cannot restore into {target}: {exc.strerror or type(exc).__name__}."
        ) from None
    finally:
        _remove_with_sidecars(staged)
    return RestoreResult(target, source, from_revision, to_revision, moved_to)


__all__ = [
    "BEFORE_RESTORE_SUFFIX",
    "BackupError",
    "CheckResult",
    "RestoreResult",
    "backup",
    "check",
    "describe_check",
    "pg_dump_hint",
    "restore",
    "running_heartbeats",
    "sqlite_file",
]
