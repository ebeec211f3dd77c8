"""`castbot console` on a pseudo-terminal: the prompt, live progress, and /quit — the interactive path."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from bot.console import SAMPLE_CHARACTER

REPO = Path(__file__).resolve().parents[2]
REAL_TIMEOUT = 40.0


def _read_until(fd: int, marker: bytes, seen: bytearray, *, after: int = 0) -> int:
    """Read the terminal into `seen` until `marker` shows up past offset `after`; returns where it ends."""
    deadline = time.monotonic() + REAL_TIMEOUT
    while marker not in seen[after:]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {marker!r} on the terminal; got: {bytes(seen[-800:])!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                raise AssertionError(f"terminal closed before {marker!r}: {bytes(seen[-800:])!r}") from None
    return seen.index(marker, after) + len(marker)


def test_interactive_session_shows_a_prompt_live_progress_and_quits(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_SIM_SPEED": "600",
           "TERM": "xterm", "COLUMNS": "120"}
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "console"], stdin=terminal, stdout=terminal,
                            stderr=terminal, cwd=tmp_path, env=env, close_fds=True)
    os.close(terminal)
    seen = bytearray()
    try:
        _read_until(controller, b"castbot> ", seen)
        os.write(controller, f'/imagine --image "{SAMPLE_CHARACTER}" a portrait --n 2\n'.encode())
        written = _read_until(controller, b"2 image(s) written", seen)
        _read_until(controller, b"castbot> ", seen, after=written)
        os.write(controller, b"/quit\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(controller)

    text = seen.decode(errors="replace")
    assert "castbot console: /help lists commands, /quit leaves." in text
    assert "\x1b[" in text  # rich drew the live progress with terminal control codes
    assert "job " in text and "poses" in text
    images = sorted((tmp_path / "data" / "console").iterdir())
    assert len(images) == 2
