"""The console's runner: one ConsoleSession per role, all in one community, on the real app and fake clock."""

from __future__ import annotations

import asyncio

from adapters.console.session import ConsoleSession
from bot.app import App
from core.types import Actor, Place
from tests.conformance.harness import pass_time
from tests.conformance.script import ASSETS, Observed, Step, observed
from tests.fakes.clock import FakeClock

IMAGE_FLAGS = {None: "--image", "character": "--image", "pose": "--pose-image", "scene": "--scene-image"}
REAL_TIMEOUT = 30.0  # real seconds a step or a settle may take


class ConsoleRunner:
    platform = "console"
    scope_id = "console:community"

    def __init__(self, app: App, clock: FakeClock, messenger) -> None:
        self._app = app
        self.simulator = app.simulator
        self._messenger = messenger
        self._clock = clock
        place = Place(self.platform, self.scope_id, self.scope_id)
        self.sessions = {
            role: ConsoleSession(app.service, messenger, follow_jobs=False,
                                 identity=(Actor(self.platform, self.user_id(role), role, role == "admin"), place))
            for role in ("owner", "admin", "other", "banned")
        }

    def user_id(self, role: str) -> str:
        return f"{role}-user"

    async def run(self, step: Step) -> Observed:
        session = self.sessions[step.role]
        if step.command is not None:
            await asyncio.wait_for(session.press(step.command), REAL_TIMEOUT)
        else:
            assert step.text is not None
            words = [step.text]
            words += [f'{IMAGE_FLAGS[role]} "{ASSETS[asset]}"' for role, asset in step.images]
            if step.target is not None:
                words.append(self.user_id(step.target))
            await asyncio.wait_for(session.handle(" ".join(words)), REAL_TIMEOUT)
        return observed(session.last_error, session.last_answer)

    async def settle(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while any(not job.state.is_final for job in self._app.engine.active_jobs()):
            assert loop.time() < deadline, "jobs did not finish"
            await self._clock.advance(0.5)
            await asyncio.sleep(0.003)

    async def wait(self, seconds: float) -> None:
        await pass_time(self._clock, seconds)
    async def result_shown(self, job_id: str) -> bool:
        """The console's results are the image files it wrote into its output folder."""
        return any(self._messenger.out_dir.glob(f"{job_id[:8]}-*"))
