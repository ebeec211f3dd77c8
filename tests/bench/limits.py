"""Operator-limits benchmark: what the per-person cap and the spend ceiling add to `create_job`.

    uv run python tests/bench/limits.py                  # 1k / 10k / 100k ledger rows in the last 24 h
    uv run python tests/bench/limits.py --rows 300000    # one bigger history

Both caps are sums over the ledger inside the job's own write transaction (core.store.caps): the person's
rows through the ledger_by_person index, and every row of the last 24 h through ledger_by_time. This
measures the mean `create_job` latency with no operator limits (the baseline, same run, a copy of the same
file) and with both caps set high enough never to refuse, for a growing number of ledger rows in the window;
each figure is the median of four rounds that alternate the order.
The rows are spread over 2,000 people in 300 communities, as a busy public instance would have them.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.clock import SystemClock
from core.limits import OperatorLimits
from core.store.sqlite import NewJob, SqliteStore

PEOPLE, COMMUNITIES, MEASURED, ROUNDS = 2_000, 300, 200, 4
CAPS = OperatorLimits(person_daily_units=10**6, daily_spend_ceiling=10**9)


def job(i: int, tag: str) -> NewJob:
    return NewJob(idem_key=f"{tag}-{i}", platform="telegram", user_id=f"u{i % PEOPLE}", user_name="u",
                  scope_id=f"g{i % COMMUNITIES}", chat_id="c", model="poses", prompt="p", payload={}, inputs={},
                  cost=1, reply_ref="r", is_admin=False)


async def fill(path: Path, rows: int) -> None:
    """`rows` holds of the last 24 h, written directly (filling through create_job would take minutes)."""
    store = await SqliteStore.open(path, clock=SystemClock(), synchronous="NORMAL")
    now = time.time()
    async with store.transaction() as conn:
        await conn.executemany(
            "INSERT INTO ledger (kind, source, scope_id, platform, user_id, job_id, units, window_at, created_at) "
            "VALUES ('hold', 'daily', ?, 'telegram', ?, NULL, 1, ?, ?)",
            [(f"g{i % COMMUNITIES}", f"u{i % PEOPLE}", now - 86_000 * i / rows, now) for i in range(rows)])
    await store.close()


async def mean_create(path: Path, limits: OperatorLimits, tag: str) -> float:
    store = await SqliteStore.open(path, clock=SystemClock(), default_daily_units=10**6, limits=limits)
    try:
        started = time.perf_counter()
        for i in range(MEASURED):
            await store.create_job(job(i, tag))
        return (time.perf_counter() - started) / MEASURED
    finally:
        await store.close()


async def main(rows_list: list[int]) -> None:
    print(f"{'ledger rows (24 h)':>18} {'no limits ms':>13} {'both caps ms':>13} {'ratio':>6}")
    for rows in rows_list:
        with tempfile.TemporaryDirectory() as tmp:
            filled = Path(tmp) / "filled.sqlite3"
            await fill(filled, rows)
            figures: dict[str, list[float]] = {"base": [], "caps": []}
            for round_ in range(ROUNDS):  # alternate, each on a fresh copy: no order or file-growth effects
                for tag, limits in (("base", OperatorLimits()), ("caps", CAPS))[:: 1 if round_ % 2 else -1]:
                    path = Path(tmp) / f"{tag}{round_}.sqlite3"
                    shutil.copy(filled, path)
                    figures[tag].append(await mean_create(path, limits, tag))
            base, capped = statistics.median(figures["base"]), statistics.median(figures["caps"])
        print(f"{rows:>18,} {base * 1000:>13.2f} {capped * 1000:>13.2f} {capped / base:>6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="ledger rows in the window (repeatable)")
    asyncio.run(main(parser.parse_args().rows or [1_000, 10_000, 100_000]))
