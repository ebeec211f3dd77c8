"""The outbox alone: its bounds, its drained signal, and a letter that fails never stopping the next ones.
(Through the messenger, PTB and the fake Bot API: tests/telegram/test_messenger.py.)"""

from __future__ import annotations

import pytest

from adapters.telegram.outbox import Outbox

PRIVATE, GROUP, OTHER = 7001, -7002, 7003


async def test_a_full_outbox_refuses_more_and_tells_the_status_post_to_wait_for_its_next_view() -> None:
    sent: list[int] = []

    async def send(chat_id: int, call) -> object:
        sent.append(chat_id)
        return await call()

    async def nothing() -> None:
        return None

    outbox = Outbox(send, per_chat=2, total=3)
    assert outbox.post(PRIVATE, nothing) and outbox.post(PRIVATE, nothing)
    assert not outbox.post(PRIVATE, nothing), "the chat's bound"
    assert outbox.post(GROUP, nothing)
    assert not outbox.post(OTHER, nothing), "everyone's bound"
    await outbox.drain()
    assert outbox.idle and sorted(sent) == sorted([PRIVATE, PRIVATE, GROUP])
    assert outbox.post(OTHER, nothing), "room again once drained"
    await outbox.close()


@pytest.mark.parametrize("failing", [True, False])
async def test_a_failed_letter_never_stops_the_chats_next_ones(failing: bool) -> None:
    done: list[str] = []

    async def send(chat_id: int, call) -> object:
        return await call()

    async def boom() -> None:
        raise RuntimeError("a bug in one reply")

    async def fine() -> str:
        return "ok"

    async def note(value: object) -> None:
        done.append(str(value))

    outbox = Outbox(send)
    outbox.post(PRIVATE, boom if failing else fine, failed=note, done=note)
    outbox.post(PRIVATE, fine, done=note)
    await outbox.drain()
    assert done == (["a bug in one reply", "ok"] if failing else ["ok", "ok"])
