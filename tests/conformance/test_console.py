"""The conformance script through the console adapter, on the real app, store, engine and simulator."""

from __future__ import annotations

import io

from adapters.console.messenger import ConsoleMessenger
from bot.app import build_app
from core.simulator.server import SimConfig
from tests.conformance.console_runner import ConsoleRunner
from tests.conformance.harness import play
from tests.conformance.script import Expect, Step
from tests.console.conftest import console_settings
from tests.fakes.clock import FakeClock


async def test_console_conforms(tmp_path):
    clock = FakeClock()
    async with build_app(console_settings(tmp_path / "data"), clock=clock,
                         simulator_config=SimConfig(median_seconds=20.0, cv=0.1)) as app:
        messenger = ConsoleMessenger(tmp_path / "out", stream=io.StringIO(), live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store)
    assert problems == []


async def test_the_harness_reports_outcomes_that_differ(tmp_path):
    """The comparison can fail: wrong expectations about jobs, refusals, characters and bans are each reported."""
    clock = FakeClock()
    wrong = (
        Step("owner", "/imagine on a beach", expect=Expect(job=True, units=1)),
        Step("owner", "/character save Luna --consent", images=(((None, "character"),)),
             expect=Expect(characters={"Luna": False}, refusal="not_allowed")),
        Step("admin", "/admin ban", target="other", expect=Expect(banned={"other": False})),
    )
    async with build_app(console_settings(tmp_path / "data"), clock=clock) as app:
        messenger = ConsoleMessenger(tmp_path / "out", stream=io.StringIO(), live=False)
        problems = await play(ConsoleRunner(app, clock, messenger), app.store, wrong)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "refusal 'missing_image', expected None",
        "job created: False, expected True",
        "units moved by 0, expected 1",
        "refusal None, expected 'not_allowed'",
        "character Luna exists: True, expected False",
        "other banned: True, expected False",
    ]
