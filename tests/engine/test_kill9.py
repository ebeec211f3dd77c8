"""A real process killed with SIGKILL mid-poll: after a restart the job completes and is delivered once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from core.simulator.server import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[2]


def job_state(db: Path) -> str | None:
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            row = conn.execute("SELECT state FROM jobs WHERE idem_key = 'console:crash-1'").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


async def wait_for(predicate, *, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_sigkill_mid_poll_then_restart_delivers_once(tmp_path: Path) -> None:
    # a simulator outside the bot process, sped up so a job takes about three seconds
    async with Simulator(SimConfig(speed=20.0, seed=5)) as sim:
        env = {**os.environ, "SEGMIND_API_KEY": sim.config.api_key, "SEGMIND_API_URL": sim.url,
               "SEGMIND_UPLOAD_URL": sim.url, "CASTBOT_LOG_LEVEL": "WARNING"}
        deliveries = tmp_path / "deliveries.jsonl"
        db = tmp_path / "castbot.sqlite3"
        args = [sys.executable, "-m", "tests.engine.child_app", str(tmp_path), str(deliveries)]
        first = await asyncio.create_subprocess_exec(*args, "submit", cwd=ROOT, env=env)
        try:
            assert await wait_for(lambda: job_state(db) in ("submitted", "running"), seconds=30)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert not deliveries.exists()
        second = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env)
        try:
            assert await asyncio.wait_for(second.wait(), timeout=60) == 0
        finally:
            if second.returncode is None:
                second.kill()
        lines = [json.loads(line) for line in deliveries.read_text().splitlines()]
        assert len(lines) == 1 and lines[0]["images"] == 2
        assert sim.count("/v2/consistent-character", method="POST") == 1
        assert job_state(db) == "delivered"
        with sqlite3.connect(db) as conn:
            kinds = dict(conn.execute("SELECT kind, SUM(units) FROM ledger GROUP BY kind").fetchall())
        assert kinds.get("hold") == 2 and kinds.get("capture") == 2
