"""Per-chat pacing under Telegram's flood limits, on the injected clock.

About one message per second in a private chat, at most 20 per minute in a group, 30 per second over
all chats. Each chat has its own turn lock and next-allowed time, so a RetryAfter in one chat (which
pushes that chat's time forward) never delays another.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from core.clock import Clock

PRIVATE_INTERVAL = 1.0  # seconds between messages in one private chat
GROUP_INTERVAL = 3.0  # 20 per minute in a group or channel
GLOBAL_INTERVAL = 1 / 30  # 30 messages per second over all chats


def retry_seconds(exc: RetryAfter) -> float:
    """PTB 22 reports retry_after as int or timedelta depending on a setting; accept both."""
    with warnings.catch_warnings():  # the int form warns about the future timedelta form; both are handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_group(chat_id: int) -> bool:
    """Telegram gives groups, supergroups and channels negative ids; users positive ones."""
    return chat_id < 0


class ChatPacer:
    def __init__(self, clock: Clock, *, private_interval: float = PRIVATE_INTERVAL,
                 group_interval: float = GROUP_INTERVAL, global_interval: float = GLOBAL_INTERVAL) -> None:
        self._clock = clock
        self._private = private_interval
        self._group = group_interval
        self._global = global_interval
        self._next: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._global_next = 0.0

    def interval(self, chat_id: int) -> float:
        return self._group if is_group(chat_id) else self._private

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Hold this chat's turn: waits until the chat (and the global budget) allows one more call."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            await self._sleep_until(self._next.get(chat_id, 0.0))
            await self._global_turn()
            try:
                yield
            finally:
                done = self._clock.now() + self.interval(chat_id)
                self._next[chat_id] = max(self._next.get(chat_id, 0.0), done)

    def block(self, chat_id: int, seconds: float) -> None:
        """Telegram said RetryAfter for this chat: nothing goes there for `seconds`."""
        self._next[chat_id] = max(self._next.get(chat_id, 0.0), self._clock.now() + seconds)

    def busy(self, chat_id: int) -> bool:
        lock = self._locks.get(chat_id)
        return bool(lock and lock.locked())

    async def _global_turn(self) -> None:
        slot = max(self._clock.now(), self._global_next)
        self._global_next = slot + self._global
        await self._sleep_until(slot)

    async def _sleep_until(self, when: float) -> None:
        delay = when - self._clock.now()
        if delay > 0:
            await self._clock.sleep(delay)
