"""The messenger against the fake Bot API through a real PTB Bot: coalescing, pacing, 429s, delivery."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from adapters.telegram import render
from adapters.telegram.buttons import ButtonCodec
from adapters.telegram.messenger import TelegramMessenger
from adapters.telegram.pacing import GROUP_INTERVAL, ChatPacer
from adapters.telegram.statusref import StatusRef, shown_digest
from core.types import JobState, JobView, OutputImage
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer
from tests.telegram.helpers import REAL_TIMEOUT, photo

PRIVATE = 7001
GROUP = -7002
OTHER = 7003


@dataclass
class Rig:
    clock: FakeClock
    tg: FakeTelegramServer
    messenger: TelegramMessenger

    async def until(self, condition: Callable[[], bool], *, step: float = 0.25) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REAL_TIMEOUT
        while not condition():
            assert loop.time() < deadline, "timed out"
            await self.clock.advance(step)
            await asyncio.sleep(0.003)

    async def status(self, chat_id: int) -> str:
        """A posted status message's reference, as a new job gets it."""
        job = f"rig-{len(self.messenger._posted)}"
        await self.messenger.post_status(StatusRef(chat_id, None, 1).encode(), view(job=job))  # queued, not sent
        await self.until(lambda: job in self.messenger._posted)
        return StatusRef(chat_id, self.messenger._posted[job], 1).encode()

    def edits(self, chat_id: int) -> list:
        return [c for c in self.tg.calls_to("editMessageText", chat_id) if c.status == 200]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock()
    async with FakeTelegramServer(clock=clock.now) as tg:
        bot = Bot(tg.token, base_url=f"{tg.root}/bot", base_file_url=f"{tg.root}/file/bot")
        async with bot:
            # group messages spaced 3 s apart, so a turn is held long enough for the queue's order to show
            messenger = TelegramMessenger(bot, pacer=ChatPacer(clock, group_interval=GROUP_INTERVAL),
                                          codec=ButtonCodec())
            yield Rig(clock, tg, messenger)
            await messenger.close()


def view(job: str = "job-1", progress: float = 0.0, state: JobState = JobState.RUNNING, **kw) -> JobView:
    kw.setdefault("prompt", "a knight")
    return JobView(job_id=job, state=state, model="poses", progress=progress, **kw)


async def test_a_burst_of_views_costs_few_edits_and_the_last_view_wins(rig: Rig) -> None:
    ref = await rig.status(PRIVATE)
    for i in range(1, 11):
        await rig.messenger.show(ref, view(progress=i / 10, elapsed=i))
    await rig.until(lambda: not rig.messenger._pending[PRIVATE] and
                    "▰" * 12 in rig.tg.bot_messages(PRIVATE)[0]["text"])
    assert len(rig.edits(PRIVATE)) <= 2
    assert "Cancel" in json.dumps(rig.tg.bot_messages(PRIVATE)[0]["reply_markup"])


async def test_busy_group_never_exceeds_twenty_messages_per_minute(rig: Rig) -> None:
    refs = [await rig.status(GROUP) for _ in range(20)]
    for second in range(120):  # every job reports every virtual second for two minutes
        for n, ref in enumerate(refs):
            await rig.messenger.show(ref, view(job=f"job-{n}", progress=second / 120, elapsed=second))
        await rig.clock.advance(1.0)
        await asyncio.sleep(0.002)
    stamps = sorted(c.at for c in rig.tg.calls if c.chat_id == GROUP and c.method != "getChatAdministrators")
    assert len(stamps) > 40, "edits did go out"
    worst = max(sum(1 for t in stamps if start <= t < start + 60) for start in stamps)
    assert worst <= 20


async def test_retry_after_in_one_chat_does_not_delay_another(rig: Rig) -> None:
    slow, fast = await rig.status(PRIVATE), await rig.status(OTHER)
    rig.tg.flood(PRIVATE, retry_after=30, methods={"editMessageText"})
    start = rig.clock.now()
    await rig.messenger.show(slow, view(progress=0.5))
    await rig.messenger.show(fast, view(progress=0.5))
    await rig.until(lambda: rig.edits(OTHER))
    assert rig.edits(OTHER)[0].at - start < 2.0
    await rig.until(lambda: rig.edits(PRIVATE))
    assert rig.edits(PRIVATE)[0].at - start >= 30.0


async def test_single_image_is_a_photo_with_buttons_and_short_callback_data(rig: Rig) -> None:
    ref = StatusRef(PRIVATE, 1, 1).encode()
    long_id = "j" * 70  # longer than callback_data allows: the codec swaps in a short token
    image = OutputImage(photo(), "image/jpeg", "out.jpg")
    task = asyncio.ensure_future(rig.messenger.deliver(ref, view(job=long_id, state=JobState.COMPLETED,
                                                                 prompt="<b>x</b>" * 300), [image]))
    await rig.until(task.done)
    task.result()
    (call,) = rig.tg.calls_to("sendPhoto", PRIVATE)
    assert len(call.params["caption"]) <= 1024 and "&lt;b&gt;" in call.params["caption"]
    datas = [b["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert {d.split(":")[0] for d in datas} >= {"rr", "ss", "sv", "dl"}
    assert all(len(d.encode()) <= 64 for d in datas)
    assert rig.messenger._codec.decode(datas[0])[1] == long_id


async def test_several_images_are_one_album_then_the_buttons(rig: Rig) -> None:
    ref = StatusRef(PRIVATE, 1, 1).encode()
    images = [OutputImage(photo(c), "image/jpeg", f"{c}.jpg") for c in ("red", "green", "blue", "white")]
    task = asyncio.ensure_future(rig.messenger.deliver(ref, view(state=JobState.COMPLETED), images))
    await rig.until(task.done)
    task.result()
    (album,) = rig.tg.calls_to("sendMediaGroup", PRIVATE)
    assert len(album.params["media"]) == 4 and len(album.files) == 4
    (buttons,) = rig.tg.calls_to("sendMessage", PRIVATE)
    assert "inline_keyboard" in buttons.params["reply_markup"]


async def test_delivery_that_keeps_hitting_429_raises_so_the_engine_retries(rig: Rig) -> None:
    rig.tg.flood(PRIVATE, retry_after=5, times=10)
    ref = StatusRef(PRIVATE, 1, 1).encode()
    task = asyncio.ensure_future(rig.messenger.deliver(ref, view(state=JobState.COMPLETED),
                                                       [OutputImage(photo(), "image/jpeg", "a.jpg")]))
    await rig.until(task.done)
    with pytest.raises(RetryAfter):
        task.result()
    assert len(rig.tg.calls_to("sendPhoto", PRIVATE)) == 4


async def test_album_out_but_buttons_refused_does_not_raise_so_images_are_not_sent_twice(rig: Rig) -> None:
    rig.tg.flood(PRIVATE, retry_after=2, times=10, methods={"sendMessage"})
    ref = StatusRef(PRIVATE, 1, 1).encode()
    images = [OutputImage(photo(c), "image/jpeg", f"{c}.jpg") for c in ("red", "blue")]
    task = asyncio.ensure_future(rig.messenger.deliver(ref, view(state=JobState.COMPLETED), images))
    await rig.until(task.done)
    task.result()
    assert len(rig.tg.calls_to("sendMediaGroup", PRIVATE)) == 1


async def test_a_job_resumed_without_a_status_message_gets_one_and_its_reference_is_recorded(rig: Rig) -> None:
    """A crash after the job was written but before its status message went out: the next view posts it."""
    recorded: list[tuple[str, str]] = []

    async def on_posted(job_id: str, reply_ref: str) -> None:
        recorded.append((job_id, reply_ref))

    rig.messenger.on_posted = on_posted
    unposted = StatusRef(PRIVATE, None, 42).encode()
    await rig.messenger.show(unposted, view(progress=0.3))
    await rig.until(lambda: bool(recorded))
    (post,) = rig.tg.calls_to("sendMessage", PRIVATE)
    assert "poses" in post.params["text"]
    (job_id, ref) = recorded[0]
    assert job_id == "job-1" and StatusRef.decode(ref).message_id is not None
    await rig.messenger.show(unposted, view(progress=0.9))  # the engine may still hold the old reference
    await rig.until(lambda: bool(rig.edits(PRIVATE)))
    assert len(rig.tg.calls_to("sendMessage", PRIVATE)) == 1, "edited, not posted twice"


async def test_a_view_the_message_already_shows_costs_no_edit_and_what_it_shows_is_recorded(rig: Rig) -> None:
    recorded: list[str] = []

    async def on_posted(_job_id: str, reply_ref: str) -> None:
        recorded.append(reply_ref)

    rig.messenger.on_posted = on_posted
    ref = await rig.status(PRIVATE)
    done = view(state=JobState.DELIVERED, progress=1.0, elapsed=21.0)
    await rig.messenger.show(ref, done)
    await rig.until(lambda: len(rig.edits(PRIVATE)) == 1)
    for _ in range(3):  # the engine re-shows a final status (after a restart, a reconnect)
        await rig.messenger.show(ref, done)
    await rig.clock.advance(10.0)
    await rig.messenger.flush()
    assert len(rig.tg.calls_to("editMessageText", PRIVATE)) == 1
    shown = StatusRef.decode(recorded[-1])
    assert shown.shown == shown_digest(render.status_text(done), None)

    # a restarted bot has no memory but the stored reference: that is enough
    restarted = TelegramMessenger(rig.messenger._bot, pacer=ChatPacer(rig.clock), codec=ButtonCodec())
    await restarted.show(recorded[-1], done)
    await rig.clock.advance(10.0)
    await restarted.flush()
    assert len(rig.tg.calls_to("editMessageText", PRIVATE)) == 1


async def test_not_modified_still_happening_counts_as_shown(rig: Rig) -> None:
    """An edit went out but the bot died before recording it: Telegram's refusal means it is shown."""
    ref = await rig.status(PRIVATE)
    done = view(state=JobState.FAILED, error="The renderer gave up.")
    await rig.messenger.show(ref, done)
    await rig.until(lambda: len(rig.edits(PRIVATE)) == 1)
    forgetful = TelegramMessenger(rig.messenger._bot, pacer=ChatPacer(rig.clock), codec=ButtonCodec())
    await rig.clock.advance(2.0)  # a restart takes longer than the chat's one-second pace
    with rig.tg.expect_refusal("message is not modified"):
        await forgetful.show(ref, done)  # `ref` predates the edit: no digest in it
        await rig.until(lambda: len(rig.tg.calls_to("editMessageText", PRIVATE)) == 2)
    await rig.clock.advance(2.0)
    await forgetful.flush()
    await forgetful.show(ref, done)
    await rig.clock.advance(10.0)
    await forgetful.flush()
    assert len(rig.tg.calls_to("editMessageText", PRIVATE)) == 2, "learned from the refusal"


async def test_long_html_goes_out_in_pages_cut_between_tags(rig: Rig) -> None:
    text = "\n".join(f"• <b>character {n} &amp; friend</b> — <i>a long description {n}</i>" for n in range(300))
    rig.messenger.answer_text(PRIVATE, text, reply_to=9, markup=ButtonCodec().result_markup("j"))
    await rig.until(lambda: rig.messenger.idle)
    pages = rig.tg.calls_to("sendMessage", PRIVATE)
    assert len(pages) == 4 and all(c.status == 200 for c in pages)  # the fake parses each: none refused
    assert [bool(c.params.get("reply_markup")) for c in pages] == [False, False, False, True]
    assert [bool(c.params.get("reply_parameters")) for c in pages] == [True, False, False, False]
    assert "character 299" in pages[-1].params["text"]


async def test_a_commands_answer_goes_ahead_of_the_groups_waiting_job_traffic(rig: Rig) -> None:
    # A busy group: five results wait for their turns (3 s apart). A /cancel's answer must not wait
    # behind them: Telegram already counts the /cancel as handled, so a kill meanwhile would lose it.
    bot = rig.messenger._bot
    start = rig.clock.now()
    results = [asyncio.ensure_future(rig.messenger.send(GROUP, lambda i=i: bot.send_message(GROUP, f"result {i}")))
               for i in range(5)]
    await rig.until(results[0].done)  # result 1 now holds the turn, waiting out the group's interval
    rig.messenger.answer_text(GROUP, "Cancelling it.", reply_to=1)
    later = asyncio.ensure_future(rig.messenger.send(GROUP, lambda: bot.send_message(GROUP, "result 5")))
    await rig.until(lambda: all(t.done() for t in [*results, later]) and rig.messenger.idle)
    sent = [(c.params["text"], c.at) for c in rig.tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert [text for text, _ in sent] == ["result 0", "result 1", "Cancelling it.",
                                          *(f"result {i}" for i in range(2, 6))]
    assert sent[2][1] - start <= 6.5  # the next turn that was not yet handed out: two group intervals in
    assert [b - a for (_, a), (_, b) in itertools.pairwise(sent)] == pytest.approx([3.0] * 6, abs=0.3)


async def test_a_waiter_cancelled_in_the_queue_does_not_hold_up_the_chat(rig: Rig) -> None:
    bot = rig.messenger._bot
    first = asyncio.ensure_future(rig.messenger.send(GROUP, lambda: bot.send_message(GROUP, "first")))
    await rig.until(lambda: rig.tg.calls_to("sendMessage", GROUP))
    gone = asyncio.ensure_future(rig.messenger.send(GROUP, lambda: bot.send_message(GROUP, "never sent"), answer=True))
    last = asyncio.ensure_future(rig.messenger.send(GROUP, lambda: bot.send_message(GROUP, "last")))
    await asyncio.sleep(0.01)
    gone.cancel()
    await rig.until(lambda: first.done() and last.done())
    assert [c.params["text"] for c in rig.tg.calls_to("sendMessage", GROUP)] == ["first", "last"]
    assert not rig.messenger._pacer.busy(GROUP)


async def test_answers_go_out_in_order_through_a_429_and_the_caller_never_waits(rig: Rig) -> None:
    rig.tg.flood(GROUP, retry_after=7, times=1)  # the first answer meets a RetryAfter
    start = rig.clock.now()
    for n in range(5):
        rig.messenger.answer_text(GROUP, f"answer {n}", reply_to=n + 1)  # returns at once: nothing awaited
    assert not rig.messenger.idle and rig.messenger.outbox.waiting(GROUP) >= 4
    rig.messenger.answer_text(OTHER, "elsewhere")
    await rig.until(lambda: rig.messenger.idle)
    sent = [(c.params["text"], c.at - start) for c in rig.tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert [text for text, _ in sent] == [f"answer {n}" for n in range(5)]
    assert sent[0][1] >= 7.0, "the chat waited out Telegram's retry_after"
    (other,) = [c for c in rig.tg.calls_to("sendMessage", OTHER) if c.status == 200]
    assert other.at - start < 1.0, "another chat never waits for this one's 429"


async def test_a_status_post_queued_behind_answers_knows_its_message_before_any_edit(rig: Rig) -> None:
    recorded: list[str] = []

    async def on_posted(job_id: str, reply_ref: str) -> None:
        recorded.append(reply_ref)

    rig.messenger.on_posted = on_posted
    for n in range(3):
        rig.messenger.answer_text(GROUP, f"answer {n}")
    ref = StatusRef(GROUP, None, 9).encode()
    await rig.messenger.post_status(ref, view(job="queued", state=JobState.ACCEPTED))
    for progress in (0.2, 0.5, 0.9):  # the engine moves on while the post waits in the outbox
        await rig.messenger.show(ref, view(job="queued", progress=progress))
    await rig.until(lambda: rig.messenger.idle and len(recorded) >= 2)
    posts = [c for c in rig.tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert [c.params["text"] for c in posts[:3]] == ["answer 0", "answer 1", "answer 2"]
    assert len(posts) == 4, "one status message, no second one for the views shown meanwhile"
    status_id = StatusRef.decode(recorded[0]).message_id
    edits = [c for c in rig.tg.calls_to("editMessageText", GROUP) if c.status == 200]
    assert edits and all(int(c.params["message_id"]) == status_id for c in edits)
    assert "▰" * 10 in rig.tg.bot_messages(GROUP)[-1]["text"], "the newest view won"


async def test_job_traffic_never_slips_in_between_queued_answers(rig: Rig) -> None:
    """Answers wait in the outbox and ask for one turn at a time; the results waiting meanwhile go after them all,
    so a long answer's pages (and one person's answers) stay together."""
    bot = rig.messenger._bot
    results = [asyncio.ensure_future(rig.messenger.send(GROUP, lambda i=i: bot.send_message(GROUP, f"result {i}")))
               for i in range(3)]
    await rig.until(results[0].done)  # result 1 now holds the turn, waiting out the group's interval
    for n in range(3):
        rig.messenger.answer_text(GROUP, f"answer {n}")
    await rig.until(lambda: all(t.done() for t in results) and rig.messenger.idle)
    sent = [c.params["text"] for c in rig.tg.calls_to("sendMessage", GROUP) if c.status == 200]
    assert sent == ["result 0", "result 1", "answer 0", "answer 1", "answer 2", "result 2"]
