"""Per-chat outboxes: an update handler posts its replies here and returns at once; one drainer task per
busy chat sends them, in order, at the chat's pace.

Before this, each reply awaited its chat's paced turn inside the update handler, so 100 commands in one
group parked PTB's whole handler pool (64 updates) behind a 20-messages-a-minute group and an unrelated
private chat waited minutes for its answer. Now a handler's cost is the command's own work; the pace is
paid by the drainer of the chat that caused it.

Bounded: at most `per_chat` letters wait per chat and `total` over all chats (a letter beyond that is
refused, `post` returns False and one warning says so: an answer minutes late is no answer); drainers exist
only for chats with letters, so at most `total` of them, and each stops by itself when its chat is empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.error import TelegramError

log = logging.getLogger(__name__)

PER_CHAT = 30  # letters waiting in one chat: a minute and a half of a group's pace
TOTAL = 3000  # letters waiting over all chats
MAX_ROUNDS = 100_000  # a drainer stops after this many letters even if its chat never empties
CLOSE_GRACE = 10.0  # real seconds a clean stop waits for outboxes to drain before dropping the rest

Call = Callable[[], Awaitable[Any]]
Send = Callable[[int, Call], Awaitable[Any]]  # one paced call in a chat (RetryAfter handled)
Done = Callable[[Any], Awaitable[None]]
Failed = Callable[[BaseException | None], Awaitable[None]]  # None: dropped, never sent


@dataclass(slots=True)
class _Letter:
    call: Call
    done: Done | None
    failed: Failed | None


class Outbox:
    def __init__(self, send: Send, *, per_chat: int = PER_CHAT, total: int = TOTAL,
                 on_empty: Callable[[int], None] | None = None) -> None:
        self._send = send
        self._on_empty = on_empty  # told when a chat's drainer ends: nothing of that chat waits here any more
        self._per_chat = per_chat
        self._total = total
        self._letters: dict[int, deque[_Letter]] = {}
        self._drainers: dict[int, asyncio.Task[None]] = {}
        self._count = 0  # letters waiting or being sent
        # chats whose overflow was logged (None: everyone's bound), one line per flood, not per drop; a chat leaves
        # when its drainer ends, so this never outgrows the drainers
        self._full: set[int | None] = set()

    def post(self, chat_id: int, call: Call, *, done: Done | None = None, failed: Failed | None = None) -> bool:
        """Queue one call for the chat; False (and nothing queued) when the chat's or everyone's outbox is full."""
        queue = self._letters.setdefault(chat_id, deque())
        if len(queue) >= self._per_chat or self._count >= self._total:
            full = chat_id if queue else None
            if full not in self._full:
                self._full.add(full)
                log.warning("outbox full: replies to chat %s dropped until it drains (%d waiting there, %d in all)",
                            chat_id, len(queue), self._count)
            if not queue:
                del self._letters[chat_id]
            return False
        queue.append(_Letter(call, done, failed))
        self._count += 1
        if chat_id not in self._drainers:
            self._drainers[chat_id] = asyncio.create_task(self._drain(chat_id), name=f"outbox-{chat_id}")
        return True

    @property
    def idle(self) -> bool:
        """Nothing waits and nothing is being sent: the deterministic "drained" signal for tests and stops."""
        return not self._drainers

    def waiting(self, chat_id: int) -> int:
        return len(self._letters.get(chat_id, ()))

    async def drain(self) -> None:
        """Wait until every outbox is empty (letters posted meanwhile included)."""
        for _ in range(MAX_ROUNDS):
            running = list(self._drainers.values())
            if not running:
                return
            await asyncio.wait(running)

    async def close(self) -> None:
        """Drain what a clean stop can still send, then drop the rest."""
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                await self.drain()
        except TimeoutError:
            pass
        if self._count:
            log.warning("stopping with %d replies unsent", self._count)
        tasks = list(self._drainers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, chat_id: int) -> None:
        queue = self._letters[chat_id]
        try:
            for _ in range(MAX_ROUNDS):
                if not queue:
                    return
                letter = queue.popleft()
                try:
                    await self._deliver(chat_id, letter)
                finally:
                    self._count -= 1
        finally:
            # no await between the last emptiness check and here: a post() meanwhile finds no drainer and starts one
            del self._drainers[chat_id]
            self._full -= {chat_id, None}
            if queue:
                self._count -= len(queue)
                log.warning("outbox of chat %s stopped with %d replies unsent", chat_id, len(queue))
            del self._letters[chat_id]
            if self._on_empty is not None:
                self._on_empty(chat_id)

    async def _deliver(self, chat_id: int, letter: _Letter) -> None:
        try:
            result = await self._send(chat_id, letter.call)
        except TelegramError as exc:
            log.warning("a reply to chat %s could not be sent: %s", chat_id, exc)
            await _hook(letter.failed, exc)
        except Exception as exc:  # a drainer never dies of one letter: the chat's next replies still go
            log.exception("a reply to chat %s failed", chat_id)
            await _hook(letter.failed, exc)
        else:
            await _hook(letter.done, result)


async def _hook(hook: Callable[[Any], Awaitable[None]] | None, value: Any) -> None:
    if hook is None:
        return
    try:
        await hook(value)
    except Exception:
        log.exception("an outbox hook failed")
