"""One token bucket for every Segmind status request the engine makes.

Written on the injected clock (aiolimiter reads the event loop's clock, which a test cannot move).
A 429 pauses the whole bucket: every job slows, not just the one that hit the limit.
"""

from __future__ import annotations

import asyncio

from core.clock import Clock

MAX_WAIT_ROUNDS = 10_000  # a bound on the acquire loop; never reached with a sane rate
MIN_WAIT = 0.001  # epoch timestamps (~1.8e9 s) cannot represent nanosecond waits: float rounding would spin
EPSILON = 1e-9


class RequestBudget:
    def __init__(self, clock: Clock, *, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._clock = clock
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._stamp = clock.now()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.granted = 0

    def pause(self, seconds: float) -> None:
        """Stop granting for `seconds` (from a 429's Retry-After); pauses never shorten."""
        self._paused_until = max(self._paused_until, self._clock.now() + max(0.0, seconds))

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def _refill(self) -> None:
        now = self._clock.now()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait for one token. Callers queue on a lock, so grants are first come, first served."""
        async with self._lock:
            for _ in range(MAX_WAIT_ROUNDS):
                now = self._clock.now()
                if now < self._paused_until:
                    await self._clock.sleep(self._paused_until - now)
                    continue
                self._refill()
                if self._tokens >= 1.0 - EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self.granted += 1
                    return
                await self._clock.sleep(max(MIN_WAIT, (1.0 - self._tokens) / self.rate))
            raise RuntimeError("request budget wait did not converge")
