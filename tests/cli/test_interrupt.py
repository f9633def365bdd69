"""Ctrl-C in the interactive console ends it at once with status 130 (a real terminal)."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lessons"


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and wanted not in out:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out


def test_ctrl_c_at_the_console_prompt_exits_130(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUTORBOT_") and k not in {"DISCORD_TOKEN", "ANTHROPIC_API_KEY"}}
    env.update(TUTORBOT_PATHS__DATA_DIR=str(tmp_path / "data"),
               TUTORBOT_PATHS__LESSONS_DIR=str(FIXTURES), TUTORBOT_CONFIG="")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console on a terminal
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "console"], env)
    try:
        assert b"> " in _read_until(fd, b"> ", 60), "no prompt"
        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
        deadline = time.monotonic() + 15
        status = None
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
            else:
                _read_until(fd, b"\0", 0.2)  # keep the terminal drained
        # Before the fix the process waited for Enter (a thread blocked in input()).
        assert status == 130
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
