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
- /history: the busiest user's first and last page through the real CommandRouter and CastService;
- enqueue: one more job accepted into the full queue (its position shown in the accepted message).

Python's garbage collector can pause any of these: a full collection walks every live object, and
10,000 jobs are a lot of them. Each measurement starts right after a collection, so garbage left by
the setup is not charged to it, and the longest collection while measuring is printed beside the figures.

The ratio to the smallest size shows the growth: linear work gives ratios near the size ratio
(3.0 and 10.0 for 1k / 3k / 10k) or below; quadratic work gives ~9x and ~100x. Target: < 50 ms at 10k.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import asyncio
import functools
import gc
import random
import statistics
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
REPEATS = 3  # each tick, /history and enqueue measured this many times; the median is printed


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
    """The longest time the loop went without giving this task a turn: the worst block anyone waited.

    Measured twice: on the wall clock, and in CPU time of the loop's thread. On a shared machine the wall
    figure also counts the moments the OS ran other processes; the CPU figure is only the loop's own work
    (the store's SQL runs on its own thread and is in neither)."""

    def __init__(self) -> None:
        self.worst = 0.0  # wall seconds
        self.worst_cpu = 0.0  # CPU seconds of the loop's thread
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
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0)
            now, cpu = time.perf_counter(), time.thread_time()
            self.worst = max(self.worst, now - last)
            self.worst_cpu = max(self.worst_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu


class CollectorWatch:
    """The longest garbage collection (gc.callbacks) inside a measurement, in ms."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.watching = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.watching:
            self.longest = max(self.longest, (time.perf_counter() - self._started) * 1000)


COLLECTOR = CollectorWatch()


@dataclass
class Block:
    """The longest block of a measurement (median over its repeats), in ms of loop CPU and of wall time."""

    cpu: float
    wall: float

    @classmethod
    def of(cls, probes: list[LagProbe]) -> Block:
        return cls(statistics.median(p.worst_cpu for p in probes) * 1000,
                   statistics.median(p.worst for p in probes) * 1000)


@dataclass
class Row:
    size: int
    fill_s: float
    first: Block
    quiet: Block
    moving: Block
    history: Block
    enqueue: Block
    views: str
    tick_work: float  # ms of loop CPU for a whole moving tick, all its slices together

    def blocks(self) -> dict[str, Block]:
        return {"first tick": self.first, "quiet tick": self.quiet, "moving tick": self.moving,
                "/history": self.history, "enqueue": self.enqueue}


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


async def blocked(action: Callable[[], Awaitable[Any]], messenger: CountingMessenger) -> LagProbe:
    """The probe's findings while `action` runs and the work it set off settles. A collection first:
    garbage left by the setup is not charged to `action`."""
    gc.collect()
    COLLECTOR.watching = True
    async with LagProbe() as probe:
        await action()
        await settle(messenger)
    COLLECTOR.watching = False
    return probe


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

    async def tick() -> None:
        await clock.advance(INTERVAL)

    built = views_built(engine)
    first = [await blocked(tick, messenger)]
    first_views = delta(built, views_built(engine))
    quiet, moving, quiet_views, moving_views = [], [], [], []
    for _ in range(REPEATS):
        built = views_built(engine)
        quiet.append(await blocked(tick, messenger))
        quiet_views.append(delta(built, views_built(engine)))
        # started jobs are parked before their state changes: the running ones are those no longer queued
        running = [j for j in engine.active_jobs()[:100] if engine.queue.position(j.job_id) is None]
        await engine.cancel(running[0].job_id)  # its slot goes to the next job: the whole queue moves up
        await settle(messenger)
        built = views_built(engine)
        moving.append(await blocked(tick, messenger))
        moving_views.append(delta(built, views_built(engine)))
    # the whole work of a moving tick, without the probe (whose own turns would be counted)
    running = [j for j in engine.active_jobs()[:100] if engine.queue.position(j.job_id) is None]
    await engine.cancel(running[0].job_id)
    await settle(messenger)
    gc.collect()
    cpu = time.thread_time()
    await tick()
    await settle(messenger)
    tick_work = (time.thread_time() - cpu) * 1000
    progress(f"{size}: ticks measured; /history and enqueue")
    actor, place = Actor("bench", "u0", "user 0"), Place("bench", "s0", "c0")
    last_page = max(1, min(1000, -(-(size // USERS) // 10)))
    answers: list[Any] = []

    async def history() -> None:
        for page in (1, last_page):
            answers.append(await router.handle(actor, place, c.History(page=page)))

    histories = [await blocked(history, messenger) for _ in range(REPEATS)]
    assert answers and answers[0].jobs, "history returned nothing"
    enqueues = []
    for i in range(REPEATS):
        extra, _ = await store.create_job(new_job(size + i))
        enqueues.append(await blocked(functools.partial(engine.enqueue, extra), messenger))
    views = "n/a" if first_views is None else f"{first_views}/{max(quiet_views)}/{min(moving_views)}"
    return Row(size, fill_s, Block.of(first), Block.of(quiet), Block.of(moving), Block.of(histories),
               Block.of(enqueues), views, tick_work)


def delta(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000", help="queued jobs per run, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    rows = [await measure(size) for size in sizes]
    base, top = rows[0], rows[-1]
    for unit in ("cpu", "wall"):
        what = "CPU time of the loop's thread" if unit == "cpu" else "wall clock (includes other processes)"
        print(f"longest event-loop block, ms, median of {REPEATS} ({what})")
        print(f"{'queued':>7}" + "".join(f"{name:>13}" for name in base.blocks()))
        for r in rows:
            print(f"{r.size:>7}" + "".join(f"{getattr(b, unit):>13.1f}" for b in r.blocks().values()))
    for r in rows[1:]:
        ratios = ", ".join(f"{name} {r.blocks()[name].cpu / max(0.05, b.cpu):.1f}x"
                           for name, b in base.blocks().items())
        print(f"ratio {r.size}/{base.size} (x{r.size / base.size:.0f} jobs), CPU: {ratios}")
    print("a whole moving tick's work, ms CPU: " + ", ".join(
        f"{r.size}: {r.tick_work:.1f} ({r.tick_work / max(0.05, base.tick_work):.1f}x)" for r in rows))
    print("views built per tick (first/quiet/moving): " + "; ".join(f"{r.size}: {r.views}" for r in rows))
    worst = max(b.cpu for name, b in top.blocks().items() if name != "enqueue")
    print(f"at {top.size}: worst tick or /history block {worst:.1f} ms CPU (target < {TARGET_MS:.0f} ms: "
          f"{'MET' if worst < TARGET_MS else 'NOT MET'}); longest garbage collection "
          f"while measuring {COLLECTOR.longest:.1f} ms")
    print(f"{USERS} users in 2 communities, real store file, virtual clock; filling the store took "
          f"{', '.join(f'{r.fill_s:.1f}s' for r in rows)}; wall time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    asyncio.run(main())
