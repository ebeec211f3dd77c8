"""Floods: handlers never wait on a chat's pace, and a flooder gets one "Slow down", not 100 queued replies.

Issue 13: after 100 /help in one group, /quota in an unrelated private chat waited 109 s, because each reply
awaited its chat's paced turn inside the update handler and PTB's pool of 64 handlers filled with them.
These run the shipped rate limit (Settings' defaults), the real PTB adapter and the strict fake Bot API
(which refuses anything over Telegram's flood limits), on virtual time.
"""

from __future__ import annotations

from pathlib import Path

from adapters.telegram.outbox import PER_CHAT
from adapters.telegram.pacing import GROUP_INTERVAL  # a handler waiting for the group's pace takes at least this
from bot.settings import Settings
from tests.telegram.conftest import TelegramWorld, castbot_settings, telegram_world

GROUP = -4001
QUIET = 4100  # someone else, in their private chat
FLOODER = 4101
DEFAULT_BURST = Settings.model_fields["command_burst"].default
STEP = 0.01  # virtual seconds per step while measuring: small, so real work between steps can't look slow


def shipped_limits(data_dir: Path) -> Settings:
    defaults = {name: Settings.model_fields[name].default for name in ("command_burst", "command_rate")}
    return castbot_settings(data_dir).model_copy(update=defaults)


async def handled(world: TelegramWorld, sent: list[dict]) -> None:
    """Every sent message's update has gone through its handler (its outcome is noted)."""
    keys = [f"telegram:{m['chat']['id']}:{m['message_id']}" for m in sent]
    await world.until(lambda: all(k in world.adapter.outcomes for k in keys), step=STEP, what="handlers")


async def quota_latency(world: TelegramWorld) -> float:
    """Virtual seconds from a /quota in the quiet private chat to its answer."""
    start = world.clock.now()
    world.tg.send_text(QUIET, QUIET, "/quota")
    await world.until(lambda: any("Units left" in t for t in world.texts(QUIET)), step=STEP, what="/quota answer")
    return world.clock.now() - start


def answered(world: TelegramWorld, chat_id: int) -> set[int]:
    """The user messages the bot's replies in a chat answer (each answer's first page replies to its command)."""
    return {int(c.params["reply_parameters"]["message_id"]) for c in world.tg.calls_to("sendMessage", chat_id)
            if c.status == 200 and c.params.get("reply_parameters")}


async def test_one_flooder_in_a_group_stalls_nobody_and_is_told_once(tmp_path: Path) -> None:
    async with telegram_world(tmp_path / "data", shipped_limits(tmp_path / "data")) as world:
        start = world.clock.now()
        flood = [world.tg.send_text(GROUP, FLOODER, "/help") for _ in range(100)]
        await handled(world, flood)
        assert world.clock.now() - start < GROUP_INTERVAL, "a handler waited for the group's pace"

        assert await quota_latency(world) <= 1.0

        await world.until(lambda: world.adapter.messenger.idle, what="the group's replies")
        drained = world.clock.now() - start
        slow = [t for t in world.texts(GROUP) if t.startswith("Slow down")]
    assert len(slow) == 1, slow
    assert len(answered(world, GROUP)) == DEFAULT_BURST + 1, "the burst's answers and one slow-down, nothing more"
    assert drained < 60.0, f"the flood's replies took {drained:.0f} s to go out"


async def test_many_users_flooding_one_group_stall_no_other_chat(tmp_path: Path) -> None:
    """Forty people, five commands each (inside everyone's burst): the group's outbox stays bounded (the rest is
    dropped, an answer minutes late being none), and a private chat is answered at once."""
    async with telegram_world(tmp_path / "data", shipped_limits(tmp_path / "data")) as world:
        flood = [world.tg.send_text(GROUP, 5000 + user, "/help") for _ in range(5) for user in range(40)]
        await handled(world, flood)
        # bounded (the group's minute allows 20 at once, so its drainer may have taken a few out since it filled)
        waiting = world.adapter.messenger.outbox.waiting(GROUP)
        assert 0 < waiting <= PER_CHAT
        already = len(answered(world, GROUP))  # sent while the handlers ran

        assert await quota_latency(world) <= 1.0

        await world.until(lambda: world.adapter.messenger.idle, step=0.5, what="the group's replies")
    # the waiting ones went, and perhaps the one that was on its way when `already` was counted: nothing more
    assert already + waiting <= len(answered(world, GROUP)) <= already + waiting + 1


async def test_a_flood_of_typos_is_a_flood_too(tmp_path: Path) -> None:
    """Commands the adapter can't even build (an unknown command) count against the sender like any other."""
    async with telegram_world(tmp_path / "data", shipped_limits(tmp_path / "data")) as world:
        await handled(world, [world.tg.send_text(GROUP, FLOODER, "/bogus") for _ in range(30)])
        await world.until(lambda: world.adapter.messenger.idle, what="the group's replies")
        texts = world.texts(GROUP)
    assert sum(t.startswith("There is no /bogus") for t in texts) == DEFAULT_BURST
    assert sum(t.startswith("Slow down") for t in texts) == 1
    assert len(texts) == DEFAULT_BURST + 1
