"""The real castbot app (store, engine, simulator) on virtual time, the real PTB adapter, a fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App, build_app
from bot.settings import Settings
from core.simulator.server import SimConfig
from tests.fakes.clock import FakeClock
from tests.fakes.safety import FLAG_WORD, MarkClassifier
from tests.fakes.telegram import FakeTelegramServer
from tests.telegram.helpers import REAL_TIMEOUT, photo  # noqa: F401  (re-exported for tests)


@dataclass
class TelegramWorld:
    clock: FakeClock
    tg: FakeTelegramServer
    app: App
    adapter: TelegramAdapter

    async def until(self, condition: Callable[[], bool], *, step: float = 0.25, what: str = "condition") -> None:
        """Advance virtual time in steps, giving real I/O a turn, until `condition()` holds (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await self.clock.advance(step)
            await asyncio.sleep(0.003)

    def texts(self, chat_id: int) -> list[str]:
        """Every message the bot sent to a chat (sendMessage), in order."""
        return [str(c.params.get("text", "")) for c in self.tg.calls_to("sendMessage", chat_id)]

    async def stop(self) -> None:
        """Stop the adapter while time still moves (PTB waits for handlers, which may be pacing)."""
        task = asyncio.ensure_future(self.adapter.stop())
        await self.until(task.done, what="adapter stop")
        task.result()


def castbot_settings(data_dir: Path, **env: object) -> Settings:
    """`env`: more settings by their variable names (CASTBOT_PERSON_DAILY_UNITS=3, ...)."""
    return Settings(_env_file=None, CASTBOT_DATA_DIR=data_dir, SEGMIND_API_KEY=None,  # type: ignore[call-arg]
                    CASTBOT_DAILY_UNITS=40, CASTBOT_MAX_PER_USER=2, CASTBOT_MAX_IN_FLIGHT=16,
                    CASTBOT_COMMAND_BURST=10_000, **env)  # scripts outpace people


@contextlib.asynccontextmanager
async def telegram_world(data_dir: Path, settings: Settings | None = None, *, clock: FakeClock | None = None,
                         test_classifier: bool = True) -> AsyncIterator[TelegramWorld]:
    """The whole world, started; the adapter is stopped on the way out (also used by tests/conformance and the
    delivery bench). `test_classifier`: the gate runs with the test classifier (it flags the simulator's marked
    pictures), never the optional model; False: the gate is what the settings say (the bench measures that)."""
    clock = clock or FakeClock()
    async with FakeTelegramServer(clock=clock.now) as tg, build_app(
        settings or castbot_settings(data_dir), clock=clock, classifier=MarkClassifier() if test_classifier else None,
        simulator_config=SimConfig(median_seconds=20.0, cv=0.1, flag_word=FLAG_WORD),
    ) as app:
        adapter = TelegramAdapter(app.service, token=tg.token, api_url=tg.root, clock=clock, poll_timeout=1.0,
                                  album_window=0.5)
        await adapter.start()
        world = TelegramWorld(clock, tg, app, adapter)
        try:
            yield world
        finally:
            await world.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(tmp_path) as started:
        yield started
