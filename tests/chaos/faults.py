"""Faults injected while the load plays: Segmind (via the simulator's knobs) and Telegram (via the fake).

Steady background faults are SimConfig rates (10 % of status polls 5xx, 3 % of jobs FAILED, some
truncated downloads); this module adds the bursts and windows, one every `every` seconds, and counts
what it injected for the summary table.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from core.simulator.server import SimConfig, Simulator
from tests.chaos.discord_side import DiscordSide
from tests.chaos.fake_telegram import ChaosTelegramServer

STEADY = {"server_error_rate": 0.10, "failure_rate": 0.03, "truncate_rate": 0.03}
WINDOW_SECONDS = 3.0  # how long a credits-exhausted or slow-body window lasts


def sim_config(speed: float, seed: int) -> SimConfig:
    return SimConfig(speed=speed, seed=seed, retry_after=1.0, **STEADY)


class FaultInjector:
    def __init__(self, sim: Simulator, fake: ChaosTelegramServer, chats: list[int], *, seed: int,
                 every: float, discord: DiscordSide | None = None) -> None:
        self.discord = discord
        self.sim = sim
        self.fake = fake
        self.chats = chats
        self.every = every
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    async def run(self, seconds: float) -> None:
        """Inject faults for `seconds` (bounded: at most seconds / every rounds), then restore the knobs."""
        actions = (self._segmind_429_burst, self._telegram_flood, self._drop_poll, self._expire_running,
                   self._credits_window, self._slow_bodies, self._telegram_flood, self._segmind_429_burst)
        if self.discord is not None:
            actions += (self._discord_drop, self._discord_429)
        deadline = time.monotonic() + seconds
        try:
            for _ in range(int(seconds / self.every) + 1):
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(self.every)
                await self.rng.choice(actions)()
        finally:
            self.sim.config.credits = None
            self.sim.config.slow_body = False

    def count_steady(self) -> None:
        """Read the simulator's own record of the steady faults it answered."""
        self.injected["segmind 5xx (random)"] = sum(1 for r in self.sim.requests if r.status >= 500)
        failed = sum(1 for job in self.sim.jobs if job.failure)
        self.injected["segmind jobs FAILED"] = failed

    async def _discord_drop(self) -> None:
        assert self.discord is not None
        await self.discord.drop_gateway()
        self.injected["discord gateway dropped"] += 1

    async def _discord_429(self) -> None:
        assert self.discord is not None
        self.discord.rate_limit()
        self.injected["discord 429 retry_after"] += 1

    async def _segmind_429_burst(self) -> None:
        count = self.rng.randint(3, 8)
        self.sim.fail_next(429, retry_after=1.0, count=count)
        self.injected["segmind 429 burst"] += 1

    async def _telegram_flood(self) -> None:
        chat = self.rng.choice(self.chats)
        self.fake.flood(chat, self.rng.randint(1, 3), times=2, methods={"sendMessage", "editMessageText",
                                                                         "sendPhoto"})
        self.injected["telegram 429 retry_after"] += 1

    async def _drop_poll(self) -> None:
        self.fake.fail_updates += 2
        self.injected["telegram getUpdates failed"] += 1

    async def _expire_running(self) -> None:
        now = self.sim.clock.now()
        running = [j for j in self.sim.jobs if j.state(now) in ("QUEUED", "PROCESSING") and not j.expired]
        if running:
            self.sim.expire(self.rng.choice(running).request_id)
            self.injected["segmind result expired (404)"] += 1

    async def _credits_window(self) -> None:
        self.sim.config.credits = 0.0
        self.injected["segmind credits exhausted (406)"] += 1
        try:
            await asyncio.sleep(WINDOW_SECONDS)
        finally:
            self.sim.config.credits = None

    async def _slow_bodies(self) -> None:
        self.sim.config.slow_body = True
        self.injected["segmind slow bodies"] += 1
        try:
            await asyncio.sleep(WINDOW_SECONDS)
        finally:
            self.sim.config.slow_body = False
