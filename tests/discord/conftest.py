"""The real castbot app (store, engine, simulator) on virtual time, the real discord.py client, a fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.discord.adapter import DiscordAdapter
from core.limits import OperatorLimits
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.safety import FLAG_WORD, MarkClassifier

REAL_TIMEOUT = 30.0  # real seconds any wait in these tests may take before failing
TOKEN = "discord-test-token"


def photo(color: str = "orange", size: int = 256, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format=fmt)
    return buf.getvalue()


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def sub(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


@dataclass
class DiscordWorld:
    clock: FakeClock
    dc: FakeDiscord
    app: Any  # bot.app.App
    adapter: DiscordAdapter

    async def until(self, condition: Callable[[], Any], *, step: float = 0.25, what: str = "condition") -> Any:
        """Advance virtual time in steps, giving real I/O a turn, until `condition()` holds (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while not (result := condition()):
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await self.clock.advance(step)
            await asyncio.sleep(0.003)
        return result


def castbot_settings(data_dir: Path, **env: Any) -> Any:
    """`env`: more settings by their variable names (CASTBOT_ALLOWED_PLACES=..., ...)."""
    from bot.settings import Settings

    return Settings(_env_file=None, CASTBOT_DATA_DIR=data_dir, SEGMIND_API_KEY=None,  # type: ignore[call-arg]
                    CASTBOT_DAILY_UNITS=40, CASTBOT_MAX_PER_USER=2, CASTBOT_MAX_IN_FLIGHT=16,
                    CASTBOT_COMMAND_BURST=10_000, **env)  # scripts outpace people


def make_adapter(app: Any, dc: FakeDiscord, clock: FakeClock, **kw: Any) -> DiscordAdapter:
    return DiscordAdapter(app.service, token=TOKEN, api_url=dc.api_url, gateway_url=dc.gateway_url,
                          clock=clock, guild_ready_timeout=0.05, **kw)


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    """The fake Discord; the test fails if it refused anything the test did not `expect_refusal`, or if
    a message would have pinged anyone but the user who asked."""
    fake = await FakeDiscord().start()
    fake.token = TOKEN  # the bot must authenticate every bot-token route
    try:
        yield fake
    finally:
        await fake.close()
    fake.ledger.assert_clean()


@pytest.fixture
async def world(tmp_path: Path, dc: FakeDiscord) -> AsyncIterator[DiscordWorld]:
    async with discord_world(dc, castbot_settings(tmp_path)) as started:
        yield started


@contextlib.asynccontextmanager
async def discord_world(dc: FakeDiscord, settings: Any, *, clock: FakeClock | None = None,
                        test_classifier: bool = True) -> AsyncIterator[DiscordWorld]:
    """The real app with `settings` and the started adapter against `dc`, on a fresh fake clock (or `clock`).
    `test_classifier`: the gate runs with the test classifier (it flags the simulator's marked pictures), never the
    optional model; False: the gate is what the settings say (the delivery bench measures that)."""
    from bot.app import build_app
    from core.simulator.server import SimConfig

    clock = clock or FakeClock()
    dc.clock = clock.now
    async with build_app(settings, clock=clock, classifier=MarkClassifier() if test_classifier else None,
                         simulator_config=SimConfig(median_seconds=20.0, cv=0.1, flag_word=FLAG_WORD)) as app:
        adapter = make_adapter(app, dc, clock)
        await adapter.start()
        try:
            yield DiscordWorld(clock, dc, app, adapter)
        finally:
            await adapter.stop()


class Plumbing:
    """Only what the adapter needs at start: no commands that reach core are used with it."""

    def __init__(self) -> None:
        self.messengers: dict[str, Any] = {}
        self.replies: dict[str, str] = {}  # job id -> the reply reference the messenger last recorded
        self.service = self
        self.limiter = None  # no command rate limit
        self.store = self  # the router reads the operator's limits from the service's store
        self.limits = OperatorLimits()

    def register_messenger(self, platform: str, messenger: Any) -> None:
        self.messengers[platform] = messenger

    async def rebind_reply(self, job_id: str, reply_ref: str) -> None:
        self.replies[job_id] = reply_ref

    async def weights(self, place: Any) -> dict[str, int]:
        return {}  # /help's prices: the catalog's, as with no operator or community prices set


@pytest.fixture
async def bare(dc: FakeDiscord) -> AsyncIterator[DiscordWorld]:
    """The real adapter and client against the fake Discord, without the castbot app behind it."""
    clock = FakeClock()
    app = Plumbing()
    adapter = make_adapter(app, dc, clock)
    await adapter.start()
    try:
        yield DiscordWorld(clock, dc, app, adapter)
    finally:
        await adapter.stop()
