"""The Discord half of the chaos run: the fake gateway + REST next to the fake Bot API.

Discord users save a character and start jobs during the load (their jobs join every database
invariant), the gateway is dropped now and then, one interaction token is expired before delivery
(the 15-minute limit), REST answers 429 with retry_after, and the burst sends half its commands here:
latency is from the gateway dispatch to the interaction callback (Discord's 3-second rule).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.scenario import PROMPTS, SAVE_WAIT, until
from tests.fakes.discord_payloads import APP_ID
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.hostile_images import photo_jpeg

DISCORD_TOKEN = "MTIzNDU2Nzg5.chaos-discord-token-never-logged"
GUILD = 222_000
ANSWER_LIMIT = 3.0  # Discord drops an interaction not answered within 3 s


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


@dataclass
class DiscordSide:
    fake: FakeDiscord
    seed: int
    sent: list[dict[str, Any]] = field(default_factory=list)
    expired: int = 0
    drops: int = 0

    @classmethod
    async def start(cls, seed: int) -> DiscordSide:
        fake = await FakeDiscord().start()
        fake.token = DISCORD_TOKEN
        return cls(fake, seed)

    def env(self) -> dict[str, str]:
        return {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": self.fake.api_url,
                "DISCORD_GATEWAY_URL": self.fake.gateway_url}

    def callback(self, payload: dict[str, Any]) -> Any:
        return next((c for c in self.fake.calls if c.method == "POST"
                     and c.path.startswith(f"/interactions/{payload['id']}/")), None)

    async def play(self, users: int, jobs: int, seconds: float) -> None:
        """`users` people in one guild: save a character, then `jobs` /imagine each over `seconds`."""
        rng = random.Random(self.seed)
        await asyncio.gather(*(self._user(70_000 + i, jobs, seconds, random.Random(rng.random()))
                               for i in range(users)))

    async def _user(self, uid: int, jobs: int, seconds: float, rng: random.Random) -> None:
        name = f"D{uid}"
        for _ in range(2):  # a save lost to a kill is sent again
            att = self.fake.add_attachment(photo_jpeg(70, 70), filename="me.jpg", content_type="image/jpeg")
            saved = await self.fake.slash("character", [{"name": "save", "type": 1, "options": [
                option("name", name), option("image", att["id"], 11), option("consent", True, 5)]}],
                attachments=[att], user_id=uid, guild_id=GUILD)
            if await until(lambda s=saved: any(f"/webhooks/{APP_ID}/{s['token']}" in c.path
                                               for c in self.fake.calls), SAVE_WAIT):
                break
        for i in range(jobs):
            await asyncio.sleep(rng.uniform(0.5, 1.5) * seconds / jobs)
            # the first prompt is hostile (issue 14): results quote it, and the strict fake records any ping
            ping = " @everyone @here" if i == 0 else ""
            sent = await self.fake.slash("imagine", [option("prompt", f"{rng.choice(PROMPTS)} #{i}{ping}"),
                                                     option("character", name)], user_id=uid, guild_id=GUILD)
            self.sent.append(sent)
            if rng.random() < 0.25:  # the 15-minute token runs out after the defer, before the result
                asyncio.get_running_loop().create_task(self._expire_after_defer(sent))

    async def _expire_after_defer(self, sent: dict[str, Any]) -> None:
        if await until(lambda: self.callback(sent), 10.0):
            self.fake.expire_token(sent["token"])
            self.expired += 1

    def violations(self) -> list[str]:
        """What the real Discord would have refused, or who would have been pinged, during the run."""
        return self.fake.unexpected()

    async def drop_gateway(self) -> None:
        await self.fake.drop_gateway()
        self.drops += 1

    def rate_limit(self) -> None:
        self.fake.rate_limit("PATCH", "/webhooks/", times=2, retry_after=1.0)

    async def burst(self, commands: int) -> list[float]:
        """`commands` /quota interactions within one second; seconds from dispatch to callback each."""
        payloads = []
        for i in range(commands):
            payloads.append(await self.fake.slash("quota", user_id=71_000 + i, guild_id=GUILD))
            await asyncio.sleep(1.0 / commands)
        await until(lambda: all(self.callback(p) for p in payloads), 30.0)
        dispatched = {d["id"]: at for at, event, d, _ in self.fake.dispatched if event == "INTERACTION_CREATE"}
        latencies = []
        for p in payloads:
            call = self.callback(p)
            latencies.append(float("inf") if call is None else call.at - dispatched[p["id"]])
        return latencies
