"""Per-chat pacing under Telegram's flood limits, on the injected clock.

About one message per second in a private chat, at most 20 in any minute in a group, 30 per second over
all chats. The last two are budgets, not spacings (as PTB's own AIORateLimiter reads them): a burst of
commands in a group gets its first 20 answers at once, and 30 people asking at once in their private chats
all get theirs at once; spacing them 3 s and 1/30 s apart instead made the 20th answer in a group wait a
minute and the 100th of a burst 3.3 s, where Telegram allows 2.3 s.

Each chat has its own queue of turns and next-allowed time, so a RetryAfter in one chat (which pushes that
chat's time forward) never delays another.

A command's answer takes the chat's next turn, ahead of waiting job traffic (deliveries, status posts):
Telegram counts an update as handled once the next getUpdates asks past it, so an answer still queued
when the process dies is lost for good, and in a busy group the job traffic alone can be minutes long.
Job traffic survives a restart (jobs resume from the store), so it is the part that can wait. Answers wait in
the chat's outbox (outbox.py), whose drainer asks for one turn at a time: `answers_waiting` tells the pacer
that more are queued there, so job traffic does not slip in between two answers (or two pages of one).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from core.clock import Clock

PRIVATE_INTERVAL = 1.0  # seconds between messages in one private chat
GROUP_WINDOW, GROUP_MAX = 60.0, 20  # at most 20 messages in any minute in a group or channel
GROUP_INTERVAL = GROUP_WINDOW / GROUP_MAX  # their average spacing, for a pacer that wants it as a spacing
GLOBAL_INTERVAL = 1 / 30  # 30 messages per second over all chats...
GLOBAL_BURST = 30  # ...of which a whole second's worth may go at once
ROUNDING_SLACK = 0.001  # seconds: float sums of 1/30 must never ask Telegram for a token a hair early
MAX_GLOBAL_WAITS = 100_000  # re-checks of the global bucket by one call (each a landing or the time it named)


def retry_seconds(exc: RetryAfter) -> float:
    """PTB 22 reports retry_after as int or timedelta depending on a setting; accept both."""
    with warnings.catch_warnings():  # the int form warns about the future timedelta form; both are handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass
class _Turns:
    """One chat's turns: whether one is held, and who waits (answers first, then arrival order)."""

    held: bool = False
    waiting: list[tuple[int, int, asyncio.Future[None]]] = field(default_factory=list)


def is_group(chat_id: int) -> bool:
    """Telegram gives groups, supergroups and channels negative ids; users positive ones."""
    return chat_id < 0


class ChatPacer:
    def __init__(self, clock: Clock, *, private_interval: float = PRIVATE_INTERVAL, group_interval: float = 0.0,
                 group_max: int = GROUP_MAX, group_window: float = GROUP_WINDOW,
                 global_interval: float = GLOBAL_INTERVAL, global_burst: int = GLOBAL_BURST) -> None:
        """`group_interval`: a spacing between a group's messages on top of its window (none by default)."""
        self._clock = clock
        self._private = private_interval
        self._group = group_interval
        self._group_max = group_max
        self._group_window = group_window
        # A process that just started cannot know what the one before it sent to a group in the last minute (a
        # restart, a crash): for its first minute it spaces a group's messages evenly, as a rate that never breaks
        # 20 a minute whatever came before; after that the window holds only its own messages and is exact.
        self._window_known_at = clock.now() + group_window
        self._global = global_interval
        # the global budget as a token bucket (GCRA): a turn may start this long before its even-spacing slot
        self._global_slack = max(0, global_burst - 1) * global_interval
        self._next: dict[int, float] = {}
        self._recent: dict[int, deque[float]] = {}  # group -> when its last (up to group_max) messages finished
        self._turns: dict[int, _Turns] = {}
        self._arrivals = itertools.count()
        # the global bucket, counted pessimistically (Telegram counts a message when it arrives, somewhere between
        # our start and the reply): a finished call as if it arrived when its reply came, one in flight as if it
        # arrives now. Counting from the start instead, a burst's first 30 calls still on their way could land
        # together with the 31st and 32nd and one of them got a 429 (1 s lost) in about every other burst.
        self._global_tat = 0.0  # theoretical arrival time (GCRA) after the finished calls, in finishing order
        self._global_flying = 0
        self._global_changed: asyncio.Future[None] | None = None
        # answers queued for a chat but not yet asking for a turn (the outbox's count); set by the messenger
        self.answers_waiting: Callable[[int], int] = lambda chat_id: 0

    def interval(self, chat_id: int) -> float:
        if not is_group(chat_id):
            return self._private
        if self._clock.now() < self._window_known_at:
            return max(self._group, self._group_window / self._group_max)
        return self._group

    @asynccontextmanager
    async def turn(self, chat_id: int, *, answer: bool = False) -> AsyncIterator[None]:
        """Hold this chat's turn: waits until the chat (and the global budget) allows one more call.

        `answer`: a command's answer, served before every waiting call that is not one.
        """
        turns = self._turns.setdefault(chat_id, _Turns())
        await self._acquire(chat_id, turns, answer)
        try:
            await self._sleep_until(self._next.get(chat_id, 0.0))
            await self._window_turn(chat_id)
            await self._global_turn()
            try:
                yield
            finally:
                self._global_landed()
                now = self._clock.now()
                self._next[chat_id] = max(self._next.get(chat_id, 0.0), now + self.interval(chat_id))
                if is_group(chat_id):  # finish time: never earlier than when Telegram counted it
                    recent = self._recent.setdefault(chat_id, deque(maxlen=self._group_max))
                    recent.append(now)
        finally:
            self._release(chat_id, turns)

    def _free_for(self, chat_id: int, turns: _Turns, answer: bool) -> bool:
        """May a newcomer take the turn at once? An answer passes waiting job traffic; job traffic passes nobody,
        not even answers still in the outbox."""
        if turns.held:
            return False
        if answer:
            return not turns.waiting or turns.waiting[0][0] > 0
        return not turns.waiting and not self.answers_waiting(chat_id)

    async def _acquire(self, chat_id: int, turns: _Turns, answer: bool) -> None:
        if self._free_for(chat_id, turns, answer):
            turns.held = True
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(turns.waiting, (0 if answer else 1, next(self._arrivals), handed))
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._release(chat_id, turns)  # the turn reached us just as we were cancelled: pass it on
            raise

    def _release(self, chat_id: int, turns: _Turns) -> None:
        while turns.waiting:
            if turns.waiting[0][0] > 0 and self.answers_waiting(chat_id):
                break  # job traffic waits on: the outbox's drainer is about to ask for the next answer's turn
            _, _, handed = heapq.heappop(turns.waiting)
            if not handed.done():  # a cancelled waiter's future is done: skip it
                handed.set_result(None)
                return
        turns.held = False

    def wake(self, chat_id: int) -> None:
        """The chat's outbox emptied: job traffic left waiting for its answers may go on."""
        turns = self._turns.get(chat_id)
        if turns is not None and not turns.held and turns.waiting:
            turns.held = True
            self._release(chat_id, turns)

    def block(self, chat_id: int, seconds: float) -> None:
        """Telegram said RetryAfter for this chat: nothing goes there for `seconds`."""
        self._next[chat_id] = max(self._next.get(chat_id, 0.0), self._clock.now() + seconds)

    def busy(self, chat_id: int) -> bool:
        turns = self._turns.get(chat_id)
        return bool(turns and turns.held)

    async def _window_turn(self, chat_id: int) -> None:
        """A group's turn waits while its last `group_max` messages all fall in the past window."""
        recent = self._recent.get(chat_id)
        if recent is not None and len(recent) >= self._group_max:
            await self._sleep_until(recent[0] + self._group_window)

    async def _global_turn(self) -> None:
        """Wait until one more call fits the global bucket with every call in flight counted as arriving now."""
        for _ in range(MAX_GLOBAL_WAITS):
            now = self._clock.now()
            wait = max(self._global_tat - now, 0.0) + self._global_flying * self._global - self._global_slack
            if wait <= 0:
                self._global_flying += 1
                return
            if self._global_changed is None or self._global_changed.done():
                self._global_changed = asyncio.get_running_loop().create_future()
            changed = asyncio.ensure_future(asyncio.shield(self._global_changed))
            timer = asyncio.ensure_future(self._clock.sleep(wait + ROUNDING_SLACK))
            try:  # a call landing may free the bucket sooner than time alone
                await asyncio.wait({changed, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
                timer.cancel()
        self._global_flying += 1  # never reached in practice; counted, since the caller's landing uncounts it

    def _global_landed(self) -> None:
        self._global_flying -= 1
        self._global_tat = max(self._global_tat, self._clock.now()) + self._global
        if self._global_changed is not None and not self._global_changed.done():
            self._global_changed.set_result(None)

    async def _sleep_until(self, when: float) -> None:
        delay = when - self._clock.now()
        if delay > 0:
            await self._clock.sleep(delay)
