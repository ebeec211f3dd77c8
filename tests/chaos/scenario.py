"""What the chaos run plays: its size (a full preset and a small CI preset) and the simulated users.

Each user lives in one Telegram group (a community), saves a character from a photo, then starts a few
/imagine jobs over the load window, cancelling some (button or /cancel) and re-rolling some results.
Users only talk through the fake Bot API, exactly as people would; waits are bounded polls.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.fakes.hostile_images import photo_jpeg

ENDED_WORDS = ("Failed", "Cancelled", "Expired", "⚠", "✖")  # a job that will never have a result
POLL = 0.05  # seconds between looks at the fake's records (it runs in this very event loop)
SAVE_WAIT = 12.0  # seconds a user waits for "Saved" before sending the save again (a kill may eat it)
PROMPTS = ("on a beach at sunset", "in a rainy neon city", "reading in a library", "hiking a glacier",
           "as a knight in armour", "cooking ramen", "under cherry blossoms", "on a night train")


@dataclass(frozen=True)
class ChaosConfig:
    seed: int = 7
    communities: int = 5
    users_per_community: int = 10
    jobs_min: int = 4
    jobs_max: int = 6
    load_seconds: float = 150.0  # real seconds over which users start their jobs
    sim_speed: float = 40.0  # a ~60 s Segmind job takes ~1.5 s
    kills: int = 6
    cancel_rate: float = 0.12
    reroll_rate: float = 0.15
    settle_seconds: float = 240.0  # bound on waiting for every job to finish after the load
    burst_commands: int = 100
    burst_users: int = 50
    hostile: bool = True
    discord_users: int = 5  # 0: Telegram only
    discord_jobs: int = 3
    fault_every: float = 4.0  # real seconds between injected faults
    # Share of each user's jobs started in the community group; the rest in a private chat with the bot.
    # Telegram allows 20 messages a minute in a group, and every job costs a group at least three (status,
    # result, final edit), so 50 jobs in one group would need 7.5 minutes of sending on their own.
    group_share: float = 0.4

    @classmethod
    def small(cls) -> ChaosConfig:
        """The CI version: same machinery, a minute or so."""
        return cls(communities=2, users_per_community=3, jobs_min=2, jobs_max=3, load_seconds=20.0,
                   sim_speed=60.0, kills=2, settle_seconds=90.0, burst_commands=20, burst_users=10,
                   fault_every=2.0, discord_users=2, discord_jobs=2)


@dataclass
class Command:
    """One command the driver offered: where, by whom, what, and the message the fake handed out."""

    chat_id: int
    user_id: int
    text: str
    message: dict[str, Any]
    kind: str  # "imagine", "cancel", "save", "reroll"

    @property
    def idem_key(self) -> str:
        return f"telegram:{self.chat_id}:{self.message['message_id']}"


@dataclass
class Play:
    """Everything the users did, for the invariants."""

    commands: list[Command] = field(default_factory=list)
    presses: list[tuple[str, int, str]] = field(default_factory=list)  # (query id, user, data)


def community_chat(index: int) -> int:
    return -1_000_100 - index


def user_id(community: int, member: int) -> int:
    return 10_000 + community * 100 + member


def character_name(uid: int) -> str:
    return f"C{uid}"


def bot_replies(fake: ChaosTelegramServer, chat_id: int, message_id: int) -> list[dict[str, Any]]:
    """The bot's messages in a chat that reply to `message_id`."""
    return [m for m in fake.bot_messages(chat_id) if m.get("reply_to") == message_id]


def button_data(message: dict[str, Any], prefix: str) -> str | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data") or ""
            if data.startswith(prefix):
                return data
    return None


async def until(condition: Callable[[], Any], seconds: float) -> Any:
    """Poll `condition` (bounded in time); its truthy value, or None when time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(POLL)
    return None


class LoadPlayers:
    def __init__(self, fake: ChaosTelegramServer, config: ChaosConfig, play: Play) -> None:
        self.fake = fake
        self.config = config
        self.play = play
        self.rng = random.Random(config.seed)

    def setup_admins(self) -> None:
        for c in range(self.config.communities):
            self.fake.admins[community_chat(c)] = [user_id(c, 0)]

    async def run(self) -> None:
        users = [(c, m) for c in range(self.config.communities) for m in range(self.config.users_per_community)]
        tasks = [asyncio.create_task(self._user(c, m, random.Random(self.rng.random()))) for c, m in users]
        await asyncio.gather(*tasks)

    def offer(self, chat_id: int, uid: int, text: str, kind: str, photo: bytes | None = None) -> Command:
        if photo is None:
            msg = self.fake.offer_text(chat_id, uid, text)
        else:
            msg = self.fake.offer_photo(chat_id, uid, photo, text)
        command = Command(chat_id, uid, text, msg, kind)
        self.play.commands.append(command)
        return command

    async def _user(self, community: int, member: int, rng: random.Random) -> None:
        chat, uid = community_chat(community), user_id(community, member)
        name = character_name(uid)
        await asyncio.sleep(rng.uniform(0, self.config.load_seconds * 0.1))
        photo = photo_jpeg(64 + uid % 50, 64)
        await asyncio.gather(self._save(chat, uid, name, photo), self._save(uid, uid, name, photo))
        jobs = rng.randint(self.config.jobs_min, self.config.jobs_max)
        in_group = max(1, round(jobs * self.config.group_share))
        gap = self.config.load_seconds * 0.9 / jobs
        follow_ups = []
        for i in range(jobs):
            await asyncio.sleep(rng.uniform(0.3, 1.7) * gap)
            where = chat if i < in_group else uid
            command = self.offer(where, uid, f"/imagine --char {name} {rng.choice(PROMPTS)} #{i}", "imagine")
            roll = rng.random()
            if roll < self.config.cancel_rate:
                follow_ups.append(asyncio.create_task(self._cancel(command, rng)))
            elif roll < self.config.cancel_rate + self.config.reroll_rate:
                follow_ups.append(asyncio.create_task(self._reroll(command, rng)))
        await asyncio.gather(*follow_ups)

    async def _save(self, chat: int, uid: int, name: str, photo: bytes) -> None:
        for _ in range(2):  # a save lost to a kill is simply sent again, as a person would
            saved = self.offer(chat, uid, f"/character save {name} --consent", "save", photo)
            if await until(lambda s=saved: bot_replies(self.fake, chat, s.message["message_id"]), SAVE_WAIT):
                return

    async def _cancel(self, command: Command, rng: random.Random) -> None:
        chat, mid = command.chat_id, command.message["message_id"]
        await asyncio.sleep(rng.uniform(0.2, 2.0))
        status = await until(lambda: next((m for m in bot_replies(self.fake, chat, mid)
                                           if button_data(m, "cx:")), None), 20.0)
        if status is not None and rng.random() < 0.6:
            data = button_data(status, "cx:")
            if data:
                query = self.fake.press(command.user_id, status, data)
                self.play.presses.append((query, command.user_id, data))
                return
        self.offer(chat, command.user_id, "/cancel", "cancel")

    def _outcome(self, chat: int, mid: int) -> dict[str, Any] | bool | None:
        """The result message once delivered; True once the job ended otherwise; None while running."""
        replies = bot_replies(self.fake, chat, mid)
        result = next((m for m in replies if button_data(m, "rr:")), None)
        if result is not None:
            return result
        ended = any(word in str(m.get("text", "")) for m in replies for word in ENDED_WORDS)
        return True if ended else None

    async def _reroll(self, command: Command, rng: random.Random) -> None:
        chat, mid = command.chat_id, command.message["message_id"]
        result = await until(lambda: self._outcome(chat, mid), 120.0)
        if result is None or result is True:
            return
        action = "ss:" if rng.random() < 0.3 else "rr:"
        data = button_data(result, action) or button_data(result, "rr:")
        assert data is not None
        query = self.fake.press(command.user_id, result, data)
        self.play.presses.append((query, command.user_id, data))
