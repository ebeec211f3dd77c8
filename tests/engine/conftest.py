"""An engine on virtual time: real store file, real client, the simulator, a recording messenger."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.characters import CharacterBook
from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig, JobEngine
from core.moderation.classifier import Classifier, NoClassifier
from core.moderation.gate import GateConfig, SafetyGate
from core.pricing import Pricing
from core.segmind.client import SegmindClient
from core.segmind.remote import RemoteRunner
from core.service import CastService
from core.simulator.server import SimConfig, Simulator
from core.store.sqlite import SqliteStore
from core.types import Actor, ImageInput, ImageRole, JobState, JobView, OutputImage, Place, Request
from tests.fakes.clock import FakeClock
from tests.fakes.safety import FLAG_WORD

ASSETS = Path(__file__).resolve().parents[2] / "bot" / "assets"


class FakePlatformMessenger:
    """Stands in for a chat platform: records every status edit and delivery, can be made to fail."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, JobView]] = []
        self.delivered: list[tuple[str, JobView, list[OutputImage]]] = []
        self.fail_deliveries = 0

    async def show(self, reply_ref: str, view: JobView) -> None:
        self.shown.append((reply_ref, view))

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> None:
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise ConnectionError("platform unavailable")
        self.delivered.append((reply_ref, view, list(images)))

    def deliveries_for(self, ref: str) -> int:
        return sum(1 for r, *_ in self.delivered if r == ref)


@dataclass
class Harness:
    clock: FakeClock
    sim: Simulator
    client: SegmindClient
    store: SqliteStore
    data_dir: Path
    config: EngineConfig
    messenger: FakePlatformMessenger = field(default_factory=FakePlatformMessenger)
    engine: JobEngine | None = None
    service: CastService | None = None
    _events: itertools.count = field(default_factory=itertools.count)

    async def start_engine(self, *, connected: bool = True, pricing: Pricing | None = None,
                           classifier: Classifier | None = None, gate: GateConfig | None = None) -> CastService:
        """`connected=False`: start as `castbot run` does, before the platform adapter registers.
        `classifier`: the image safety gate's (none: the gate is off)."""
        book = CharacterBook(self.store, self.data_dir, clock=self.clock)
        safety = SafetyGate(classifier or NoClassifier("test"), store=self.store, clock=self.clock, config=gate)
        self.engine = JobEngine(store=self.store, runner=RemoteRunner(self.client), clock=self.clock,
                                data_dir=self.data_dir, config=self.config, rng=random.Random(3), uploads=book,
                                gate=safety)
        self.service = CastService(store=self.store, book=book, engine=self.engine, data_dir=self.data_dir,
                                   rng=random.Random(4), pricing=pricing)
        if connected:
            self.service.register_messenger("console", self.messenger)
        await self.engine.start()
        return self.service

    async def stop_engine(self) -> None:
        assert self.engine is not None
        await self.engine.stop()

    def request(self, user: str = "alice", *, model: str = "poses", scope: str = "g1", n: int = 1,
                images: tuple[ImageRole, ...] = (ImageRole.CHARACTER,), **params: str) -> Request:
        event = next(self._events)
        files = {ImageRole.CHARACTER: "sample_character.png", ImageRole.POSE: "sample_pose.png",
                 ImageRole.SCENE: "sample_scene.png"}
        inputs = tuple(ImageInput(role, (ASSETS / files[role]).read_bytes(), files[role]) for role in images)
        flags = {"n": str(n), **params} if model == "poses" else dict(params)
        return Request(
            actor=Actor("console", user, user), place=Place("console", scope, f"chat-{scope}"), model=model,
            prompt="on a beach", images=inputs, params=flags, idem_key=f"console:{event}",
            reply_ref=f"ref-{event}",
        )

    async def state(self, job_id: str) -> JobState:
        job = await self.store.get_job(job_id)
        assert job is not None
        return job.state

    async def run_until_state(self, job_id: str, *states: JobState, max_seconds: float = 900.0,
                              step: float = 0.5) -> float:
        """Advance virtual time until the job is in one of `states`; returns the virtual seconds taken."""
        started = self.clock.now()
        for _ in range(int(max_seconds / step) + 1):
            if await self.state(job_id) in states:
                return self.clock.now() - started
            await self.clock.advance(step)
            await asyncio.sleep(0.002)  # a real turn for loopback I/O to the simulator
        raise AssertionError(f"job {job_id} is {await self.state(job_id)} after {max_seconds} virtual seconds")


@pytest.fixture
def engine_config() -> EngineConfig:
    return EngineConfig(limits=Limits(max_in_flight=4, max_per_user=2, max_per_scope=4), status_rps=50.0)


@pytest.fixture
async def harness(tmp_path: Path, fake_clock: FakeClock, engine_config: EngineConfig) -> AsyncIterator[Harness]:
    sim = Simulator(SimConfig(seed=11, flag_word=FLAG_WORD), clock=fake_clock)
    url = await sim.start()
    client = SegmindClient(api_key=sim.config.api_key, api_url=url, upload_url=url, clock=fake_clock,
                           rng=random.Random(5))
    store = await SqliteStore.open(tmp_path / "castbot.sqlite3", clock=fake_clock, data_dir=tmp_path)
    h = Harness(fake_clock, sim, client, store, tmp_path, engine_config)
    try:
        yield h
    finally:
        if h.engine is not None:
            await h.engine.stop()
        await store.close()
        await client.aclose()
        await sim.stop()
