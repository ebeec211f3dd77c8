"""A writer killed with SIGKILL mid-transaction leaves a consistent, openable database.

The child is a real process running the real store; it parks inside a write transaction at a named
step (the store's `on_step` seam) and tells the parent through its stdout, and the parent kills it there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

from core.store.sqlite import NewJob, SqliteStore
from core.types import JobState
from tests.fakes.clock import FakeClock

REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent('''
    import asyncio, sys
    from core.clock import SystemClock
    from core.store.sqlite import NewJob, SqliteStore
    from core.types import JobState

    path, mode, stop_at = sys.argv[1], sys.argv[2], sys.argv[3]

    def job(key):
        return NewJob(idem_key=key, platform="discord", user_id="u1", user_name="u", scope_id="g1",
                      chat_id="c", model="poses", prompt="p", payload={}, inputs={}, cost=2, reply_ref="r")

    async def park(step):
        if step == stop_at:
            print("PARKED", step, flush=True)
            await asyncio.wait_for(asyncio.Event().wait(), 60)  # the parent kills us long before

    async def main():
        store = await SqliteStore.open(path, clock=SystemClock(), on_step=park, default_daily_units=10**6)
        if mode == "create":
            await store.create_job(job("crash-me"))
        elif mode == "finish":
            created = await store.get_job_by_idem("survivor")
            await store.finish_job(created.job_id, JobState.DELIVERED)
        else:  # "churn": write as fast as possible until killed
            for i in range(100_000):
                created, _ = await store.create_job(job(f"churn-{mode}-{i}"))
                if i % 3:
                    await store.finish_job(created.job_id, JobState.DELIVERED if i % 2 else JobState.FAILED)
                print("DONE", i, flush=True)

    asyncio.run(main())
''')


def make_job(idem: str) -> NewJob:
    return NewJob(idem_key=idem, platform="discord", user_id="u1", user_name="u", scope_id="g1", chat_id="c",
                  model="poses", prompt="p", payload={}, inputs={}, cost=2, reply_ref="r")


async def run_and_kill(tmp_path: Path, db: Path, mode: str, stop_at: str, *, wait_lines: int = 1) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(db), mode, stop_at, stdout=asyncio.subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        for _ in range(wait_lines):
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, "child exited before reaching the kill point"
        proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 30) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.mark.parametrize("step", ["job_inserted", "holds_inserted"])
async def test_kill_while_creating_leaves_no_half_job(tmp_path: Path, step: str) -> None:
    db = tmp_path / "castbot.sqlite3"
    await run_and_kill(tmp_path, db, "create", step)
    assert integrity(db) == "ok"
    async with await SqliteStore.open(db, clock=FakeClock()) as store:
        assert await store.get_job_by_idem("crash-me") is None
        assert await store.ledger_totals() == {"grant": 0, "hold": 0, "capture": 0, "release": 0}
        _, created = await store.create_job(make_job("crash-me"))  # the replayed event goes through
        assert created and (await store.ledger_totals())["hold"] == 2
        assert await store.audit() == []


async def test_kill_while_finishing_keeps_job_and_hold(tmp_path: Path) -> None:
    db = tmp_path / "castbot.sqlite3"
    async with await SqliteStore.open(db, clock=FakeClock()) as store:
        job, _ = await store.create_job(make_job("survivor"))
        await store.update_job(job.job_id, state=JobState.COMPLETED)
    await run_and_kill(tmp_path, db, "finish", "job_finished")
    assert integrity(db) == "ok"
    async with await SqliteStore.open(db, clock=FakeClock()) as store:
        after = await store.get_job(job.job_id)
        assert after is not None and after.state is JobState.COMPLETED  # not final, still resumable
        assert [j.job_id for j in await store.unfinished_jobs()] == [job.job_id]
        assert await store.audit() == []
        _, changed = await store.finish_job(job.job_id, JobState.DELIVERED)
        assert changed
        assert await store.ledger_totals() == {"grant": 0, "hold": 2, "capture": 2, "release": 0}


async def test_repeated_kills_of_a_busy_writer_always_reconcile(tmp_path: Path) -> None:
    db = tmp_path / "castbot.sqlite3"
    for round_no in range(3):
        await run_and_kill(tmp_path, db, f"r{round_no}", "never", wait_lines=40)
        assert integrity(db) == "ok"
        async with await SqliteStore.open(db, clock=FakeClock()) as store:
            assert await store.audit() == []
            counts = await store.job_counts()
            assert sum(counts.values()) >= 40 * (round_no + 1)
