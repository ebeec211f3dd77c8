"""A virtual clock for tests: time moves only when the test moves it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable


class FakeClock:
    """Implements core.clock.Clock. `sleep` parks the caller until `advance` passes its wake time."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._ids), fut))
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for *_, f in self._waiters if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in order and letting each run before the next wakes."""
        target = self._now + seconds
        while self._waiters and self._waiters[0][0] <= target:
            wake, _, fut = heapq.heappop(self._waiters)
            self._now = max(self._now, wake)
            if not fut.done():
                fut.set_result(None)
            await _settle()
        self._now = target
        await _settle()

    async def run_until(
        self, condition: Callable[[], bool], *, step: float = 0.5, max_seconds: float = 3600.0,
        real_pause: float = 0.002,
    ) -> float:
        """Advance in steps until `condition()` holds; returns the virtual seconds it took.

        Between steps the real loop gets a brief turn so loopback I/O (simulator, fake servers) can
        finish. Bounded: raises TimeoutError after `max_seconds` of virtual time.
        """
        start = self._now
        while not condition():
            if self._now - start > max_seconds:
                raise TimeoutError(f"condition not met within {max_seconds} virtual seconds")
            await self.advance(step)
            await asyncio.sleep(real_pause)
        return self._now - start


async def _settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)
