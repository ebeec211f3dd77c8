"""The real `castbot run` as a child process: start, SIGKILL, restart, memory readings, its logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STOP_SECONDS = 15.0


def clean_env() -> dict[str, str]:
    """The parent's environment without any castbot configuration that could leak in."""
    prefixes = ("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a live process in KiB; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def kib(name: str) -> int:
        return int(fields.get(name, "0 kB").split()[0])

    return kib("VmRSS"), kib("VmHWM")


class BotProcess:
    """One `castbot run` at a time; each incarnation logs to its own file under `log_dir`."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**clean_env(), "PYTHONPATH": str(REPO), **env}
        self.log_dir = log_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.kill_times: list[float] = []
        self.peak_rss_kib = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.returncode is None else None

    async def start(self) -> None:
        assert self.pid is None, "one castbot at a time"
        self.starts += 1
        log_file = (self.log_dir / f"castbot-{self.starts}.log").open("wb")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=REPO, env=self.env,
                stdout=log_file, stderr=asyncio.subprocess.STDOUT)
        finally:
            log_file.close()  # the child holds its own descriptor

    def sample_memory(self) -> int:
        pid = self.pid
        if pid is None:
            return 0
        rss, hwm = rss_kib(pid)
        self.peak_rss_kib = max(self.peak_rss_kib, hwm)
        return rss

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a power cut or the OOM killer would do."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.sample_memory()
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), STOP_SECONDS)
        self.kills += 1
        self.kill_times.append(time.monotonic())

    async def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL if it overstays); returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.sample_memory()
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_SECONDS)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode

    def exited_by_itself(self) -> int | None:
        """The exit code if the process died without being told to (a crash), else None."""
        if self.proc is not None and self.proc.returncode is not None:
            return self.proc.returncode
        return None

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("castbot-*.log")))
