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
from core.commands.ratelimit import CommandLimiter, CommandRate
from core.jobs.admission import Limits
from core.jobs.engine import EngineConfig, JobEngine
from core.limits import Alert, OperatorLimits, parse_ids, places
from core.metrics import observe_segmind
from core.moderation import opennsfw
from core.moderation.classifier import Classifier
from core.moderation.gate import GateConfig, SafetyGate
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


def operator_limits(settings: Settings, *, on_alert: Alert | None = None) -> OperatorLimits:
    """The operator's limits from settings; a malformed id list stops the start with a clear message."""
    return OperatorLimits(
        person_daily_units=settings.person_daily_units, daily_spend_ceiling=settings.daily_spend_ceiling,
        max_community_daily_units=settings.max_community_daily_units,
        max_community_pool_units=settings.max_community_pool_units,
        allowed_places=places(settings.allowed_places), allow_dms=settings.allow_dms,
        leave_unlisted=settings.leave_unlisted,
        operators=parse_ids(settings.operators, what="CASTBOT_OPERATORS"), on_alert=on_alert or _alert_log,
    )


def _alert_log(text: str) -> None:
    # Its own logger, so an operator can route alerts (mail, a pager) without the rest of the log.
    logging.getLogger("castbot.alerts").error("%s", text)


def engine_config(settings: Settings, *, speed: float = 1.0) -> EngineConfig:
    return EngineConfig(
        limits=Limits(settings.max_in_flight, settings.max_per_user, settings.max_per_scope),
        status_rps=settings.status_rps,
        duration_scale=1.0 / speed,
    )


def safety_gate(settings: Settings, store: SqliteStore, clock: Clock, classifier: Classifier | None) -> SafetyGate:
    chosen = classifier or opennsfw.load(settings.safety_classifier)
    if not chosen.active:
        log.warning("image safety gate is OFF: %s", getattr(chosen, "reason", "no classifier"))
    config = GateConfig(threshold=settings.safety_threshold, refund=settings.safety_refund)
    return SafetyGate(chosen, store=store, clock=clock, config=config)


@contextlib.asynccontextmanager
async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    simulator_config: SimConfig | None = None,
    engine_config_override: EngineConfig | None = None,
    rng: random.Random | None = None,
    classifier: Classifier | None = None,
) -> AsyncIterator[App]:
    """`classifier`: the image safety gate's, instead of the one the settings choose (tests pass a fake)."""
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
                                       default_daily_units=settings.default_daily_units,
                                       limits=operator_limits(settings))
        stack.push_async_callback(store.close)
        book = CharacterBook(store, settings.data_dir, clock=clock)
        gate = safety_gate(settings, store, clock, classifier)
        engine = JobEngine(store=store, runner=RemoteRunner(client), clock=clock, data_dir=settings.data_dir,
                           config=engine_config_override or engine_config(settings, speed=speed), rng=rng,
                           uploads=book, gate=gate)
        limiter = CommandLimiter(clock, CommandRate(settings.command_burst, settings.command_rate))
        blocklist = settings.blocklist_file.read_text(encoding="utf-8").splitlines() if settings.blocklist_file else ()
        guard = PromptGuard(store, operator_list=parse_blocklist(blocklist))  # a bad pattern there stops the start
        service = CastService(store=store, book=book, engine=engine, data_dir=settings.data_dir, rng=rng,
                              pricing=settings.pricing, limiter=limiter, guard=guard)
        await engine.start()
        stack.push_async_callback(engine.stop)
        scrubber = Scrubber(store, settings.data_dir)
        retention = RetentionTask(store, scrubber, clock=clock, days=settings.retention_days)
        retention.start()
        stack.push_async_callback(retention.stop)
        yield App(settings, clock, store, client, engine, service, book, scrubber, retention, simulator)
