"""Telegram's budgets are budgets, not spacings: a burst of answers goes out as fast as the strict fake's
flood limits allow (a bucket of 30 over all chats, 20 in any minute per group) and never faster."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Bot

from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.pacing import ChatPacer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer
from tests.telegram.helpers import REAL_TIMEOUT

GROUP = -7100
FIRST_CHAT = 7100


async def until(clock: FakeClock, condition: Callable[[], bool], *, step: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REAL_TIMEOUT
    while not condition():
        assert loop.time() < deadline, "timed out"
        await clock.advance(step)
        await asyncio.sleep(0.003)


@pytest.fixture
async def rig() -> AsyncIterator[tuple[FakeClock, FakeTelegramServer, TelegramMessenger]]:
    clock = FakeClock()
    async with FakeTelegramServer(clock=clock.now) as tg:  # the shared fixture fails the test on any 429
        bot = Bot(tg.token, base_url=f"{tg.root}/bot", base_file_url=f"{tg.root}/file/bot")
        async with bot:
            messenger = TelegramMessenger(bot, pacer=ChatPacer(clock), codec=ButtonCodec())
            yield clock, tg, messenger
            await messenger.close()


async def test_a_burst_over_many_private_chats_uses_the_whole_global_bucket_at_once(rig) -> None:
    clock, tg, messenger = rig
    start = clock.now()
    for n in range(40):
        messenger.answer_text(FIRST_CHAT + n, f"answer {n}")
    await until(clock, lambda: messenger.idle)
    sent = sorted(c.at - start for c in tg.calls_to("sendMessage") if c.status == 200)
    assert len(sent) == 40
    # (virtual time also moves while the loopback requests are in flight, hence the margins; spaced 1/30 s apart
    # the 30th would go at 0.97 s and the 40th at 1.3 s)
    assert sent[29] < 0.3, "the first 30 answers went at once, as the bot-wide budget allows"
    assert sent[39] <= 10 / 30 + 0.3, "then one every 1/30 s"


async def test_a_burst_in_one_group_gets_twenty_answers_at_once_then_waits_out_the_minute(rig) -> None:
    clock, tg, messenger = rig
    await clock.advance(61.0)  # up for over a minute: no message of a previous process can still count
    start = clock.now()
    for n in range(25):
        messenger.answer_text(GROUP, f"answer {n}", reply_to=n + 1)
    await until(clock, lambda: len(tg.calls_to("sendMessage", GROUP)) >= 20)  # fine steps: requests take real time
    await until(clock, lambda: messenger.idle, step=0.25)
    sent = [c.at - start for c in tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert [int(c.params["reply_parameters"]["message_id"]) for c in tg.calls_to("sendMessage", GROUP)] == \
        list(range(1, 26)), "in order, none refused"
    assert sent[19] < 10.0, "twenty answers at once, as 20 a minute allows (3 s apart the 20th went at 57 s)"
    assert sent[20] >= 60.0 and sent[24] <= 63.0, "the rest once the first left the minute's window"


async def test_calls_still_in_flight_count_as_arriving_now() -> None:
    """Telegram counts a message when it arrives, which for a call still on its way may be later than when it
    started: thirty calls in flight hold the whole bucket however long they take, and the 31st goes once one of
    them has landed (started 1/30 s apart instead, the 31st could arrive together with the first thirty: a 429)."""
    clock = FakeClock()
    pacer = ChatPacer(clock)
    land = asyncio.Event()
    inside: list[int] = []

    async def call(chat_id: int, hold: asyncio.Event | None) -> None:
        async with pacer.turn(chat_id, answer=True):
            inside.append(chat_id)
            if hold is not None:
                await hold.wait()

    first = [asyncio.ensure_future(call(FIRST_CHAT + n, land)) for n in range(30)]
    late = asyncio.ensure_future(call(FIRST_CHAT + 30, None))
    await until(clock, lambda: len(inside) == 30)
    await clock.advance(5.0)
    await asyncio.sleep(0.01)
    assert len(inside) == 30, "no 31st call while thirty are in flight, however long they take"
    land.set()
    await until(clock, late.done)
    assert inside[-1] == FIRST_CHAT + 30
    await asyncio.gather(*first)


async def test_in_its_first_minute_a_process_spaces_a_groups_messages(rig) -> None:
    """Just started, the bot cannot know what the process before it sent to the group in the last minute, so it
    keeps to the even 3 s rate that stays under 20 a minute whatever came before (no 429 after a restart)."""
    clock, tg, messenger = rig
    start = clock.now()
    for n in range(4):
        messenger.answer_text(GROUP, f"answer {n}", reply_to=n + 1)
    await until(clock, lambda: messenger.idle, step=0.25)
    sent = [c.at - start for c in tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert len(sent) == 4 and all(b - a >= 3.0 for a, b in itertools.pairwise(sent))
