"""Queue benchmark: how long a status tick and a `/history` call block the event loop with a big queue.

    uv run python tests/bench/queue.py                  # 1,000 / 3,000 / 10,000 queued jobs
    uv run python tests/bench/queue.py --sizes 1000,3000

For each size, that many jobs from 8 users in 2 communities are written through the real SqliteStore
(a real file), then the real JobEngine starts and resumes them, as after a restart: the first jobs
start (on a parked runner that never answers: Segmind is not what is measured) and the rest queue.
A loop-lag probe (a task that yields on every loop turn and records the longest gap between its
turns) measures the longest event-loop block during:

- first tick: the status tick after start, when every job's status is new;
- quiet tick: a tick where nothing changed;
- moving tick: a running job is cancelled, the next one starts, every queued position moves up by one;
- /history: the busiest user's first and last page through the real CommandRouter and CastService.

The ratio to the smallest size shows the growth: linear work gives ratios near the size ratio
(3.0 and 10.0 for 1k / 3k / 10k) or below; quadratic work gives ~9x and ~100x. Target: < 50 ms at 10k.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its name would shadow the standard
# library's `queue` (which asyncio imports): the folder gives way to the project root.
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.characters import CharacterBook
from core.commands import types as c
from core.commands.router import CommandRouter
from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig, JobEngine
from core.service import CastService
from core.store.sqlite import NewJob, SqliteStore
from core.types import Actor, JobView, OutputImage, Place
from tests.fakes.clock import FakeClock

USERS = 8
INTERVAL = 3.0  # EngineConfig.view_interval
TARGET_MS = 50.0


class ParkedRunner:
    """Stands in for Segmind: accepts the payload and never answers, so started jobs stay running."""

    async def prepare(self, model: Any, payload: dict, images: dict, *, uploaded: dict | None = None) -> dict:
        return dict(payload)

    async def start(self, model: Any, payload: dict) -> Any:
        await asyncio.Event().wait()


class CountingMessenger:
    """A platform that accepts every status edit at once (pacing is the adapters' business, not measured)."""

    def __init__(self) -> None:
        self.shown = 0

    async def show(self, reply_ref: str, view: JobView) -> None:
        self.shown += 1

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> None:
        raise ConnectionError("not in this benchmark")


class LagProbe:
    """The longest time the loop went without giving this task a turn: the worst block anyone waited."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last)
            last = now


@dataclass
class Row:
    size: int
    fill_s: float
    first_ms: float
    quiet_ms: float
    moving_ms: float
    history_ms: float
    history_wall_ms: float
    views: str


def new_job(i: int) -> NewJob:
    user = i % USERS
    return NewJob(
        idem_key=f"bench:{i}", platform="bench", user_id=f"u{user}", user_name=f"user {user}",
        scope_id=f"s{user % 2}", chat_id=f"c{user % 2}", model="poses", prompt="a knight in the rain",
        payload={"prompt": "a knight in the rain", "seed": i}, inputs={}, cost=1, reply_ref=f"msg-{i}",
    )


async def fill(store: SqliteStore, size: int) -> None:
    """Writes through create_job (idempotency, ban check, quota hold) in concurrent batches."""
    batch = 200
    for start in range(0, size, batch):
        await asyncio.gather(*(store.create_job(new_job(i)) for i in range(start, min(size, start + batch))))


async def settle(messenger: CountingMessenger, rounds: int = 400) -> None:
    """Real turns until the status edits stop coming (the tick under measurement has finished)."""
    seen, still = -1, 0
    for _ in range(rounds):
        await asyncio.sleep(0.005)
        still = still + 1 if messenger.shown == seen else 0
        seen = messenger.shown
        if still >= 4:
            return


async def blocked(action: Callable[[], Awaitable[Any]], messenger: CountingMessenger) -> float:
    """Longest event-loop block, in ms, while `action` runs and the work it set off settles."""
    async with LagProbe() as probe:
        await action()
        await settle(messenger)
    return probe.worst * 1000


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def views_built(engine: JobEngine) -> int | None:
    return getattr(engine, "views_built", None)  # the seam this benchmark's change adds; absent before it


async def measure(size: int) -> Row:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = await SqliteStore.open(data / "bench.sqlite3", clock=clock, data_dir=data,
                                       default_daily_units=10**7, synchronous="NORMAL")
        engine = JobEngine(store=store, runner=ParkedRunner(), clock=clock, data_dir=data,  # type: ignore[arg-type]
                           config=EngineConfig(limits=Limits(), view_interval=INTERVAL), rng=random.Random(1))
        try:
            return await run(size, clock, store, engine)
        finally:  # an unclosed store's connection thread would keep the process alive
            await engine.stop()
            await store.close()


async def run(size: int, clock: FakeClock, store: SqliteStore, engine: JobEngine) -> Row:
    t0 = time.perf_counter()
    await fill(store, size)
    fill_s = time.perf_counter() - t0
    service = CastService(store=store, book=CharacterBook(store, store.data_dir, clock=clock), engine=engine,
                          data_dir=store.data_dir, rng=random.Random(2))
    router = CommandRouter(service)
    messenger = CountingMessenger()
    service.register_messenger("bench", messenger)
    progress(f"{size}: store filled in {fill_s:.1f}s; starting the engine")
    await engine.start()
    await settle(messenger)
    counts: list[int | None] = [views_built(engine)]

    async def tick() -> None:
        await clock.advance(INTERVAL)

    first = await blocked(tick, messenger)
    counts.append(views_built(engine))
    quiet = await blocked(tick, messenger)
    counts.append(views_built(engine))
    # started jobs are parked before their state changes: the running ones are those no longer queued
    running = [j for j in engine.active_jobs()[:100] if engine.queue.position(j.job_id) is None]
    await engine.cancel(running[0].job_id)  # its slot goes to the next job: the whole queue moves up
    await settle(messenger)
    counts.append(views_built(engine))
    moving = await blocked(tick, messenger)
    counts.append(views_built(engine))
    progress(f"{size}: ticks measured; /history")
    actor, place = Actor("bench", "u0", "user 0"), Place("bench", "s0", "c0")
    last_page = max(1, min(1000, -(-(size // USERS) // 10)))
    answers: list[Any] = []

    async def history() -> None:
        for page in (1, last_page):
            answers.append(await router.handle(actor, place, c.History(page=page)))

    t0 = time.perf_counter()
    history_block = await blocked(history, messenger)
    history_wall = (time.perf_counter() - t0) * 1000
    assert answers and answers[0].jobs, "history returned nothing"
    if None in counts:
        views = "n/a"
    else:
        steps = [b - a for a, b in itertools.pairwise(counts)]
        views = f"{steps[0]}/{steps[1]}/{steps[3]}"
    return Row(size, fill_s, first, quiet, moving, history_block, history_wall, views)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000", help="queued jobs per run, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    rows = [await measure(size) for size in sizes]
    base = rows[0]
    print(f"longest event-loop block (ms), {USERS} users in 2 communities, real store file, virtual clock")
    print(f"{'queued':>7} {'first tick':>11} {'quiet tick':>11} {'moving tick':>12} {'/history':>9} "
          f"{'(wall)':>8}  {'views built first/quiet/moving':>30}")
    for r in rows:
        print(f"{r.size:>7} {r.first_ms:>11.1f} {r.quiet_ms:>11.1f} {r.moving_ms:>12.1f} {r.history_ms:>9.1f} "
              f"{r.history_wall_ms:>8.1f}  {r.views:>30}")
    for r in rows[1:]:
        print(f"ratio {r.size}/{base.size} (size x{r.size / base.size:.0f}): first tick "
              f"{r.first_ms / base.first_ms:.1f}x, quiet {r.quiet_ms / base.quiet_ms:.1f}x, moving "
              f"{r.moving_ms / base.moving_ms:.1f}x, /history {r.history_ms / base.history_ms:.1f}x")
    top = rows[-1]
    worst = max(top.first_ms, top.quiet_ms, top.moving_ms, top.history_ms)
    print(f"at {top.size}: worst block {worst:.1f} ms (target < {TARGET_MS:.0f} ms: "
          f"{'MET' if worst < TARGET_MS else 'NOT MET'}); filling the store took "
          f"{', '.join(f'{r.fill_s:.1f}s' for r in rows)}")
    print(f"wall time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    asyncio.run(main())
