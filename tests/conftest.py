"""Shared fixtures. The Segmind simulator runs on 127.0.0.1 and follows a FakeClock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.segmind.client import SegmindClient
from core.simulator.server import SimConfig, Simulator
from core.store.sqlite import SqliteStore
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer


@pytest.fixture(autouse=True)
def telegram_refusals() -> Iterator[None]:
    """Any test whose fake Bot API refused a call the test did not expect (`expect_refusal`) fails.

    The fake answers like Telegram, so castbot may well survive a refusal; it must still never cause one.
    Autouse at the root, so every user of the fake (telegram, chaos, ops, ...) is held to it.
    """
    FakeTelegramServer.created.clear()
    yield
    fakes, FakeTelegramServer.created[:] = list(FakeTelegramServer.created), []
    unexpected = [r for fake in fakes for r in fake.unexpected_refusals()]
    assert not unexpected, f"the fake Bot API refused calls this test did not expect: {unexpected}"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clock(fake_clock: FakeClock) -> FakeClock:
    return fake_clock


@pytest.fixture
async def store(tmp_path: Path, fake_clock: FakeClock) -> AsyncIterator[SqliteStore]:
    """A real SQLite file on the virtual clock."""
    async with await SqliteStore.open(tmp_path / "castbot.sqlite3", clock=fake_clock) as opened:
        yield opened


@pytest.fixture
async def simulator(fake_clock: FakeClock) -> AsyncIterator[Simulator]:
    """A simulator with the pages' timing (median 60 s) on virtual time."""
    async with Simulator(SimConfig(), clock=fake_clock) as sim:
        yield sim


@pytest.fixture
async def segmind_client(simulator: Simulator, fake_clock: FakeClock) -> AsyncIterator[SegmindClient]:
    async with SegmindClient(
        api_key=simulator.config.api_key, api_url=simulator.url, upload_url=simulator.url,
        clock=fake_clock, rng=random.Random(7),
    ) as client:
        yield client
