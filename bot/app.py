"""Wiring: the one place that builds real objects from settings.

`async with build_app(settings) as app:` opens the store, starts the in-process Segmind simulator when
no API key is set, and runs the engine; platform adapters are started separately by `castbot run`.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.allocator import return_freed_images_to_system
from bot.settings import Settings
from core.characters import CharacterBook
from core.clock import Clock, SystemClock
from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig, JobEngine
from core.metrics import observe_segmind
from core.moderation.guard import PromptGuard
from core.moderation.rules import parse_blocklist
from core.privacy import Scrubber
from core.retention import RetentionTask
from core.segmind.client import SegmindClient
from core.segmind.remote import RemoteRunner
from core.service import CastService
from core.simulator.server import SimConfig, Simulator
from core.store.sqlite import SqliteStore

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    clock: Clock
    store: SqliteStore
    client: SegmindClient
    engine: JobEngine
    service: CastService
    book: CharacterBook
    scrubber: Scrubber
    retention: RetentionTask
    simulator: Simulator | None = None
    adapters: list[Any] = field(default_factory=list)


def engine_config(settings: Settings, *, speed: float = 1.0) -> EngineConfig:
    return EngineConfig(
        limits=Limits(settings.max_in_flight, settings.max_per_user, settings.max_per_scope),
        status_rps=settings.status_rps,
        duration_scale=1.0 / speed,
    )


@contextlib.asynccontextmanager
async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    simulator_config: SimConfig | None = None,
    engine_config_override: EngineConfig | None = None,
    rng: random.Random | None = None,
) -> AsyncIterator[App]:
    clock = clock or SystemClock()
    return_freed_images_to_system()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        simulator = None
        speed = 1.0
        if settings.uses_simulator:
            config = simulator_config or SimConfig(speed=settings.sim_speed)
            speed = config.speed
            simulator = Simulator(config, clock=clock)
            api_url = await simulator.start()
            stack.push_async_callback(simulator.stop)
            api_key, upload_url = config.api_key, api_url
        else:
            assert settings.segmind_api_key is not None
            api_key = settings.segmind_api_key.get_secret_value()
            api_url, upload_url = settings.segmind_api_url, settings.segmind_upload_url
        client = SegmindClient(api_key=api_key, api_url=api_url, upload_url=upload_url, clock=clock,
                               observer=observe_segmind)
        stack.push_async_callback(client.aclose)
        store = await SqliteStore.open(settings.db_path, clock=clock, data_dir=settings.data_dir,
                                       default_daily_units=settings.default_daily_units)
        stack.push_async_callback(store.close)
        book = CharacterBook(store, settings.data_dir, clock=clock)
        engine = JobEngine(store=store, runner=RemoteRunner(client), clock=clock, data_dir=settings.data_dir,
                           config=engine_config_override or engine_config(settings, speed=speed), rng=rng,
                           uploads=book)
        blocklist = settings.blocklist_file.read_text(encoding="utf-8").splitlines() if settings.blocklist_file else ()
        guard = PromptGuard(store, operator_list=parse_blocklist(blocklist))  # a bad pattern there stops the start
        service = CastService(store=store, book=book, engine=engine, data_dir=settings.data_dir, rng=rng, guard=guard)
        await engine.start()
        stack.push_async_callback(engine.stop)
        scrubber = Scrubber(store, settings.data_dir)
        retention = RetentionTask(store, scrubber, clock=clock, days=settings.retention_days)
        retention.start()
        stack.push_async_callback(retention.stop)
        yield App(settings, clock, store, client, engine, service, book, scrubber, retention, simulator)
