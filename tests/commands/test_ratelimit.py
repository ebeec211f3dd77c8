"""The per-person command rate limit: a burst, then one SlowDown, then silence, then commands work again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from core.commands import answers as a
from core.commands import types as c
from core.commands.ratelimit import CommandLimiter, CommandRate
from core.commands.router import CommandRouter
from core.errors import SlowDown, UnknownCommand, word
from core.phrasing import TEXT
from core.types import Actor, Place
from tests.conformance.script import ASSETS
from tests.console.conftest import console_settings
from tests.fakes.clock import FakeClock

ALICE = Actor("telegram", "1", "alice")
BOB = Actor("telegram", "2", "bob")
RATE = CommandRate(burst=3, per_minute=6.0)  # a token every 10 s


async def test_a_burst_then_one_slow_down_then_silence_until_a_token_is_back():
    clock = FakeClock()
    limiter = CommandLimiter(clock, RATE)
    assert [limiter.admit(ALICE) for _ in range(3)] == [None, None, None]
    with pytest.raises(SlowDown) as refused:
        limiter.admit(ALICE)
    assert refused.value.retry_after == 10
    assert word(refused.value, TEXT) == "Slow down — try again in 10 s."
    assert limiter.admit(ALICE) == a.Throttled(retry_after=10)
    assert limiter.admit(BOB) is None, "one person's flood leaves everyone else alone"
    await clock.advance(9.0)
    assert limiter.admit(ALICE) == a.Throttled(retry_after=1)
    await clock.advance(1.0)
    assert limiter.admit(ALICE) is None
    with pytest.raises(SlowDown):  # a new window: its first refusal is answered again
        limiter.admit(ALICE)


async def test_the_bucket_is_the_persons_on_a_platform_and_refills_to_the_burst_only():
    clock = FakeClock()
    limiter = CommandLimiter(clock, RATE)
    for _ in range(3):
        limiter.admit(ALICE)
    assert limiter.admit(Actor("discord", "1", "alice elsewhere")) is None, "another platform's user 1 is someone else"
    await clock.advance(3600.0)
    assert [limiter.admit(ALICE) for _ in range(3)] == [None, None, None]
    with pytest.raises(SlowDown):
        limiter.admit(ALICE)


def test_memory_is_bounded_and_forgets_the_least_recently_seen():
    clock = FakeClock()
    limiter = CommandLimiter(clock, RATE, max_tracked=100)
    for _ in range(3):
        limiter.admit(ALICE)
    with pytest.raises(SlowDown):
        limiter.admit(ALICE)
    for n in range(1000):
        limiter.admit(Actor("telegram", f"u{n}"))
        if n % 50 == 0:
            assert limiter.admit(ALICE) is not None  # ALICE keeps being seen: never forgotten mid-flood
    assert len(limiter) == 100


@pytest.fixture
async def app(tmp_path) -> AsyncIterator[App]:
    settings = console_settings(tmp_path / "data").model_copy(update={"command_burst": 2, "command_rate": 6.0})
    async with build_app(settings, clock=FakeClock()) as built:
        yield built


async def test_the_router_refuses_before_any_work_and_counts_every_place_and_press(app):
    router = CommandRouter(app.service)
    fetched: list[str] = []

    async def fetch(source: c.ImageSource) -> bytes:
        fetched.append(source.filename)
        return ASSETS["character"].read_bytes()

    image = c.ImageSource("character", filename="c.png", size=1000)
    assert isinstance(await router.handle(ALICE, Place("telegram", "-1", "-1"), c.Quota()), a.QuotaShown)
    assert isinstance(await router.handle(ALICE, Place("telegram", "-2", "-2"), c.Help(None)), a.HelpAnswer)
    with pytest.raises(SlowDown):  # a third community gives no fresh bucket
        await router.handle(ALICE, Place("telegram", "dm:1", "1"), c.Generate("imagine", prompt="x"),
                            sources=(image,), fetch=fetch)
    silent = await router.handle(ALICE, Place("telegram", "-1", "-1"), c.Reroll("nope", same_seed=False))
    assert isinstance(silent, a.Throttled)
    assert fetched == [] and await app.store.fetch_all("SELECT job_id FROM jobs") == []


async def test_a_consent_press_counts_against_whoever_pressed(app):
    """Someone else pressing a saver's consent button spends their own commands, not the saver's."""
    router = CommandRouter(app.service)
    place = Place("telegram", "-1", "-1")
    press = c.CharacterSave("Luna", consent=True)
    for _ in range(2):
        await router.handle(BOB, place, c.Quota())
    with pytest.raises(SlowDown):
        await router.handle(ALICE, place, press, confirmed_by=BOB)
    assert isinstance(await router.handle(ALICE, place, c.Quota()), a.QuotaShown)


async def test_a_command_that_could_not_be_built_counts_and_keeps_its_refusal(app):
    """A flood of typos (`/bogus`, an unclosed quote) is a flood too: the router counts it, then refuses it."""
    router = CommandRouter(app.service)
    place = Place("telegram", "-1", "-1")
    typo = c.Invalid(UnknownCommand(command="bogus"))
    for _ in range(2):
        with pytest.raises(UnknownCommand):
            await router.handle(ALICE, place, typo)
    with pytest.raises(SlowDown):
        await router.handle(ALICE, place, typo)
    assert isinstance(await router.handle(ALICE, place, typo), a.Throttled)
