"""`tutorbot db backup | check | restore` as an operator runs them, on real SQLite files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.db.engine import database_from_url
from bot.db.migrate import head_revisions, upgrade_database

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
               TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES), TUTORBOT_CONFIG=str(tmp_path / "c.toml"))
    (tmp_path / "c.toml").write_text("")
    env.update(extra)
    return env


def _tutorbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True,
        env=_env(tmp_path, **env), cwd=tmp_path, timeout=120, check=False,
    )


def _live(tmp_path: Path) -> Path:
    """The configured database, created and migrated by `tutorbot db upgrade`."""
    result = _tutorbot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "data" / "tutorbot.sqlite3"
    assert path.exists()
    return path


def _fill(path: Path, rows: int, prefix: str = "fill") -> None:
    """Rows in app_state, so the file has many pages (closed after: the WAL is folded in)."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO app_state (key, value, updated_at) VALUES (?, ?, '2026-12-01 00:00:00')",
            [(f"{prefix}-{i:06d}", f"{i:06d}" * 80) for i in range(rows)],
        )
    sqlite3.connect(path).close()


def _counts(path: Path) -> tuple[int, int]:
    """(rows the writer inserted, the counter it committed with them)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT count(*) FROM app_state WHERE key GLOB 'w[0-9]*'").fetchone()
        counter = conn.execute("SELECT value FROM app_state WHERE key = 'w-count'").fetchone()
    return rows[0], int(counter[0]) if counter else 0


def _quick_check(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA quick_check").fetchone()[0])


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Another process writing in a loop as the bot does (WAL, BEGIN IMMEDIATE): each transaction
# inserts 20 rows and sets the counter 'w-count' to the number of rows committed so far.
WRITER = textwrap.dedent("""
    import pathlib, sqlite3, sys
    db, stop = sys.argv[1], pathlib.Path(sys.argv[2])
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    i = 0
    while not stop.exists() and i < 20000:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO app_state (key, value, updated_at) VALUES (?, ?, '2026-12-01 00:00:00')",
            [(f"w{i:06d}-{j:02d}", "x" * 300) for j in range(20)])
        conn.execute("INSERT OR REPLACE INTO app_state (key, value, updated_at) "
                     "VALUES ('w-count', ?, '2026-12-01 00:00:00')", (str((i + 1) * 20),))
        conn.execute("COMMIT")
        i += 1
        if i == 1:
            print("writing", flush=True)
    conn.close()
""")


def _wait_until(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_backup_taken_during_writes_restores_to_a_consistent_database(tmp_path: Path) -> None:
    live = _live(tmp_path)
    _fill(live, 20_000)  # ~10 MB: the copy takes a while, the writer keeps going meanwhile
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(live), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        before = _counts(live)[1]
        result = _tutorbot(tmp_path, "db", "backup", "backup.sqlite3")
        after = _counts(live)[1]
        assert result.returncode == 0, result.stderr
        assert "Backed up" in result.stdout and "Traceback" not in result.stderr
        assert after > before  # the writer committed while the backup command ran
        backup = tmp_path / "backup.sqlite3"
        rows, counter = _counts(backup)
        assert rows == counter and before <= counter <= after  # one committed point
        assert _quick_check(backup) == "ok"
        # The writer goes on past the backup's point.
        _wait_until(lambda: _counts(live)[1] > counter)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    final = _counts(live)
    assert final[0] == final[1] > counter

    result = _tutorbot(tmp_path, "db", "restore", "backup.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout and "before-restore" in result.stdout
    assert _counts(live) == (counter, counter)
    assert _quick_check(live) == "ok"
    assert (_revision(live),) == head_revisions()
    kept = Path(f"{live}.before-restore")
    assert _counts(kept) == final  # the old database, whole, next to it
    check = _tutorbot(tmp_path, "db", "check")
    assert check.returncode == 0 and "not damaged" in check.stdout
    # The bot starts on the restored database.
    assert _tutorbot(tmp_path, "db", "upgrade").returncode == 0


def _corrupt_middle_pages(path: Path) -> None:
    size = path.stat().st_size
    page = 4096
    pages = size // page
    assert pages > 30
    with path.open("r+b") as handle:
        for number in range(pages // 3, 2 * pages // 3):
            handle.seek(number * page)
            handle.write(bytes([0xA5]) * page)


def test_check_finds_a_file_with_corrupt_middle_pages(tmp_path: Path) -> None:
    live = _live(tmp_path)
    _fill(live, 3000)
    sound = _tutorbot(tmp_path, "db", "check")
    assert sound.returncode == 0, sound.stderr
    assert sound.stdout.strip() == f"{live}: not damaged (SQLite quick_check passed)."

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(live.read_bytes())
    _corrupt_middle_pages(damaged)
    url = f"sqlite:///{damaged}"
    result = _tutorbot(tmp_path, "db", "check", TUTORBOT_DATABASE__URL=url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "DAMAGED" in lines[0] and "tutorbot db restore" in lines[0]
    assert "Traceback" not in result.stderr

    # A damaged backup is refused by restore, and the live database stays as it was.
    digest = _digest(live)
    refused = _tutorbot(tmp_path, "db", "restore", str(damaged))
    assert refused.returncode == 2
    assert "damaged" in refused.stderr and "Nothing was restored" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _digest(live) == digest and not Path(f"{live}.before-restore").exists()


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    _live(tmp_path)
    existing = tmp_path / "backup.sqlite3"
    existing.write_text("precious")
    result = _tutorbot(tmp_path, "db", "backup", str(existing))
    assert result.returncode == 2
    assert "already exists" in result.stderr and "Traceback" not in result.stderr
    assert existing.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.sqlite3", "c.toml", "data"]


def test_postgresql_is_told_about_pg_dump_with_the_password_masked(tmp_path: Path) -> None:
    url = "postgresql://tutor:hunter2@db.example:5432/tutorbot"
    result = _tutorbot(tmp_path, "db", "backup", "b.dump", TUTORBOT_DATABASE__URL=url)
    assert result.returncode == 2
    assert "pg_dump" in result.stderr and "postgresql://tutor:***@db.example:5432/tutorbot" \
        in result.stderr
    assert "hunter2" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    assert not (tmp_path / "b.dump").exists()
    restore = _tutorbot(tmp_path, "db", "restore", "b.dump", TUTORBOT_DATABASE__URL=url)
    assert restore.returncode == 2 and "pg_restore" in restore.stderr
    assert "hunter2" not in restore.stderr + restore.stdout


def _refused(tmp_path: Path, live: Path, backup: Path, *fragments: str) -> None:
    digest = _digest(live)
    result = _tutorbot(tmp_path, "db", "restore", str(backup))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("tutorbot: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert _digest(live) == digest
    assert not Path(f"{live}.before-restore").exists()
    assert [p.name for p in live.parent.iterdir() if p.name.startswith(".")] == []


def test_restore_refuses_a_newer_a_foreign_or_a_non_sqlite_file(tmp_path: Path) -> None:
    live = _live(tmp_path)
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(live.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    _refused(tmp_path, live, newer, "0099_from_the_future", "newer tutorbot")

    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    _refused(tmp_path, live, foreign, "not a tutorbot one")

    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 100)
    _refused(tmp_path, live, text, "is not a SQLite database")
    _refused(tmp_path, live, tmp_path / "missing.sqlite3", "does not exist")


def test_restore_upgrades_an_older_backup(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    db = database_from_url(f"sqlite:///{old}")

    async def migrate_to_0002() -> None:
        await upgrade_database(db.engine, "0002")
        await db.dispose()

    asyncio.run(migrate_to_0002())
    assert _revision(old) == "0002"
    result = _tutorbot(tmp_path, "db", "restore", str(old))
    assert result.returncode == 0, result.stderr
    live = tmp_path / "data" / "tutorbot.sqlite3"
    assert (_revision(live),) == head_revisions()
    assert "revision 0002" in result.stdout
    assert not Path(f"{live}.before-restore").exists()  # there was nothing to keep
    assert _revision(old) == "0002"  # the backup itself is left as it was


# Commits a row and dies without closing: the row is only in the -wal file.
CRASH = textwrap.dedent("""
    import os, sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO app_state (key, value, updated_at) "
                 "VALUES ('late', 'only in the wal', '2026-12-01 00:00:00')")
    os._exit(0)
""")


def test_restore_moves_a_stale_wal_with_the_old_file(tmp_path: Path) -> None:
    live = _live(tmp_path)
    assert _tutorbot(tmp_path, "db", "backup", "b.sqlite3").returncode == 0
    subprocess.run([sys.executable, "-c", CRASH, str(live)], check=True, timeout=60)
    wal = Path(f"{live}-wal")
    assert wal.exists() and wal.stat().st_size > 0

    result = _tutorbot(tmp_path, "db", "restore", "b.sqlite3")
    assert result.returncode == 0, result.stderr
    assert not wal.exists() and not Path(f"{live}-shm").exists()
    with sqlite3.connect(live) as conn:
        assert conn.execute("SELECT count(*) FROM app_state WHERE key = 'late'").fetchone() == (0,)
    kept = Path(f"{live}.before-restore")
    with sqlite3.connect(kept) as conn:  # the committed row came along in its own -wal
        assert conn.execute("SELECT value FROM app_state WHERE key = 'late'").fetchone() == (
            "only in the wal",)

    # A second restore would overwrite the kept file: refused until it is moved away.
    again = _tutorbot(tmp_path, "db", "restore", "b.sqlite3")
    assert again.returncode == 2 and "earlier restore" in again.stderr


def test_each_action_has_help(tmp_path: Path) -> None:
    for action in ("backup", "check", "restore"):
        result = _tutorbot(tmp_path, "db", action, "--help")
        assert result.returncode == 0, result.stderr
        assert f"usage: tutorbot db {action}" in result.stdout


# A bot process's job runner takes the leader's lock file next to the database and keeps it.
LEADER = textwrap.dedent("""
    import asyncio, sys
    from bot.jobs.leader import leadership_for
    leadership = leadership_for(sys.argv[1])
    assert asyncio.run(leadership.try_acquire())
    print("leading", flush=True)
    sys.stdin.read()
""")


def test_restore_refuses_while_a_bot_runs_the_jobs_on_the_file(tmp_path: Path) -> None:
    live = _live(tmp_path)
    assert _tutorbot(tmp_path, "db", "backup", "b.sqlite3").returncode == 0
    leader = subprocess.Popen([sys.executable, "-c", LEADER, f"sqlite:///{live}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert leader.stdout is not None and leader.stdout.readline().strip() == "leading"
        _refused(tmp_path, live, tmp_path / "b.sqlite3", "is running on this database",
                 "stop it")
    finally:
        leader.communicate("", timeout=60)
    # Once it has stopped, the restore goes ahead.
    result = _tutorbot(tmp_path, "db", "restore", "b.sqlite3")
    assert result.returncode == 0, result.stderr


def test_restore_refuses_while_a_bot_heartbeat_is_younger_than_a_minute(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.health import heartbeat_value

    live = _live(tmp_path)
    assert _tutorbot(tmp_path, "db", "backup", "b.sqlite3").returncode == 0

    def beat(at: datetime) -> None:
        # What a running bot writes every 15 s (a bot with jobs disabled holds no lock file).
        with sqlite3.connect(live) as conn:
            conn.execute("INSERT OR REPLACE INTO app_state (key, value, updated_at) "
                         "VALUES ('heartbeat:elsewhere:4242', ?, ?)",
                         (heartbeat_value(at), at.isoformat()))

    beat(datetime.now(UTC) - timedelta(seconds=20))
    _refused(tmp_path, live, tmp_path / "b.sqlite3", "is running on this database",
             "heartbeat", "stop it")
    # A bot killed over a minute ago left its last heartbeat behind: restore goes ahead.
    beat(datetime.now(UTC) - timedelta(seconds=90))
    result = _tutorbot(tmp_path, "db", "restore", "b.sqlite3")
    assert result.returncode == 0, result.stderr
