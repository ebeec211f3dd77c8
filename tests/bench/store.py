"""Store benchmark: hold → capture throughput and latency through the real SqliteStore on a real file.

    uv run python tests/bench/store.py              # 8 writers × 150 jobs, plus baselines
    uv run python tests/bench/store.py --jobs 400   # more jobs per writer

One "job" is what the engine does for every generation: `create_job` (idempotency check, ban check,
balance derived from the ledger, job row + hold in one BEGIN IMMEDIATE transaction) then
`finish_job(DELIVERED)` (state change + capture). Latency is measured per job, from create to capture.
The same run measures the baseline of one COMMIT per transaction (`max_batch=1`: what a plain lock
around each transaction gives), a single writer, and group commit with `synchronous=NORMAL` to show
what the FULL default (durable across power loss) costs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.clock import SystemClock
from core.store.sqlite import NewJob, SqliteStore
from core.store.writer import MAX_BATCH
from core.types import JobState


@dataclass(frozen=True, slots=True)
class Result:
    label: str
    jobs: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.jobs / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def new_job(writer: int, i: int) -> NewJob:
    return NewJob(
        idem_key=f"w{writer}-{i}", platform="discord", user_id=f"user{writer % 4}", user_name="bench",
        scope_id=f"guild{writer % 2}", chat_id="c", model="poses", prompt="a knight in the rain",
        payload={"prompt": "a knight in the rain", "steps": 20, "seed": i}, inputs={"character": "/x.jpg"},
        cost=2, reply_ref=f"msg-{writer}-{i}",
    )


async def run(label: str, *, writers: int, jobs_per_writer: int, synchronous: str = "FULL",
              max_batch: int = MAX_BATCH) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.sqlite3", clock=SystemClock(),
                                       default_daily_units=10**6, synchronous=synchronous, max_batch=max_batch)
        latencies: list[float] = []

        async def writer(w: int) -> None:
            for i in range(jobs_per_writer):
                started = time.perf_counter()
                job, _ = await store.create_job(new_job(w, i))
                await store.finish_job(job.job_id, JobState.DELIVERED)
                latencies.append(time.perf_counter() - started)

        t0 = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.perf_counter() - t0
        problems = await store.audit()
        totals = await store.ledger_totals()
        await store.close()
    total = writers * jobs_per_writer
    assert not problems, problems
    assert totals["hold"] == totals["capture"] == 2 * total, totals
    return Result(label, total, elapsed, latencies)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150, help="jobs per writer (8 writers)")
    args = parser.parse_args()
    total = 8 * args.jobs
    results = [
        await run("8 writers, group commit (default)", writers=8, jobs_per_writer=args.jobs),
        await run("8 writers, one commit per tx (baseline)", writers=8, jobs_per_writer=args.jobs, max_batch=1),
        await run("1 writer", writers=1, jobs_per_writer=total),
        await run("8 writers, group commit, sync=NORMAL", writers=8, jobs_per_writer=args.jobs,
                  synchronous="NORMAL"),
    ]
    print(f"hold → capture, {total} jobs per run (create_job + finish_job DELIVERED), real SQLite file")
    print(f"{'run':<40} {'jobs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for r in results:
        print(f"{r.label:<40} {r.throughput:>8.0f} {r.pct(0.50):>8.2f} {r.pct(0.99):>8.2f} "
              f"{max(r.latencies) * 1000:>8.2f}")
    main_run, baseline = results[0], results[1]
    speedup = main_run.throughput / baseline.throughput
    print(f"ratio group commit / one commit per tx, 8 writers: throughput {speedup:.2f}x, "
          f"p99 {main_run.pct(0.99) / baseline.pct(0.99):.2f}x")
    print(f"ratio 8 writers / 1 writer throughput: {main_run.throughput / results[2].throughput:.2f}x")
    print(f"ratio FULL / NORMAL throughput (8 writers): {main_run.throughput / results[3].throughput:.2f}")

if __name__ == "__main__":
    asyncio.run(main())
