"""The real castbot app (store, engine, simulator) on virtual time, driven through the console adapter."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleSession
from bot.app import App, build_app
from bot.settings import Settings
from core.simulator.server import SimConfig
from tests.fakes.clock import FakeClock
from tests.fakes.safety import FLAG_WORD, MarkClassifier

REAL_TIMEOUT = 30.0  # real seconds any one console line may take in these tests


@dataclass
class ConsoleWorld:
    clock: FakeClock
    app: App
    session: ConsoleSession
    out: io.StringIO
    images_dir: Path

    async def line(self, text: str) -> str:
        """Run one console line to its end (advancing virtual time) and return what it printed."""
        start = len(self.out.getvalue())
        task = asyncio.create_task(self.session.handle(text))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while not task.done():
            if loop.time() > deadline:
                task.cancel()
                raise AssertionError(f"console line did not finish: {text}")
            await self.clock.advance(0.5)
            await asyncio.sleep(0.003)
        await task
        return self.out.getvalue()[start:]


def console_settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, CASTBOT_DATA_DIR=data_dir, SEGMIND_API_KEY=None,  # type: ignore[call-arg]
                    CASTBOT_DAILY_UNITS=40, CASTBOT_COMMAND_BURST=10_000)  # scripts outpace people


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[ConsoleWorld]:
    clock = FakeClock()
    out = io.StringIO()
    images_dir = tmp_path / "out"
    # The gate runs with the test classifier (flags the simulator's marked pictures), never the optional model.
    async with build_app(console_settings(tmp_path / "data"), clock=clock, classifier=MarkClassifier(),
                         simulator_config=SimConfig(median_seconds=20.0, cv=0.1, flag_word=FLAG_WORD)) as app:
        messenger = ConsoleMessenger(images_dir, stream=out, live=False)
        session = ConsoleSession(app.service, messenger, user="ada", base_dir=tmp_path)
        yield ConsoleWorld(clock, app, session, out, images_dir)
