"""The store's one writer path, with group commit.

aiosqlite gives one connection one thread; coroutines sharing it are not isolated from each other, so
every write must run alone. Running each alone in its own `BEGIN IMMEDIATE … COMMIT` pays one fsync per
write (≈3.5 ms on this disk with synchronous=FULL), which caps the bot at a few hundred writes a second
however many users wait. Instead, a writer task opens one transaction and lets the waiting callers in
one at a time, each inside its own SAVEPOINT, then commits once for all of them:

- a caller's body still runs alone and sees every earlier caller's writes (same transaction), so
  read-modify-write logic (balance checks) is exactly as serial as with a lock;
- a body that raises rolls back to its savepoint: only its own writes vanish;
- `transaction()` returns only after the COMMIT, so nobody reports success for an undurable write;
- a crash before COMMIT loses the whole batch, and none of its callers has been told it succeeded.

Do not call `transaction()` from inside a transaction body: it would wait for itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import aiosqlite

log = logging.getLogger(__name__)

MAX_BATCH = 64  # bodies per COMMIT; bounds how long one batch holds the write lock


@dataclass(slots=True)
class _Turn:
    granted: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    committed: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupWriter:
    def __init__(self, conn: aiosqlite.Connection, *, max_batch: int = MAX_BATCH) -> None:
        self._conn = conn
        self._max_batch = max(1, max_batch)  # 1 = one COMMIT per body, like a plain lock
        self._queue: asyncio.Queue[_Turn | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")
        self._task.add_done_callback(self._fail_waiting)

    async def stop(self) -> None:
        """Finish the writes already queued, then refuse new ones."""
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(None)
        with suppress(asyncio.CancelledError):
            await task

    def _fail_waiting(self, _: object = None) -> None:
        """Whenever the writer task ends (stopped, or killed by a cancel), nobody may wait forever."""
        self._task = None
        while not self._queue.empty():
            turn = self._queue.get_nowait()
            if turn is not None and not turn.granted.done():
                turn.granted.set_exception(RuntimeError("the store is closed"))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._task is None or self._task.done():
            raise RuntimeError("the store is closed")
        turn = _Turn()
        self._queue.put_nowait(turn)
        try:
            await turn.granted
        except asyncio.CancelledError:
            if turn.granted.done() and not turn.granted.cancelled():
                turn.done.set_result(False)  # granted just as we were cancelled: give the turn back
            turn.granted.cancel()
            raise
        try:
            yield self._conn
        except BaseException:
            turn.done.set_result(False)
            raise
        turn.done.set_result(True)
        await turn.committed

    async def _run(self) -> None:
        while True:
            turn = await self._queue.get()
            if turn is None:
                return
            batch: list[_Turn] = []
            served = 0
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                while turn is not None:
                    if await self._serve(turn, first=not batch):
                        batch.append(turn)
                    served += 1
                    turn = self._next_in_batch(served)
                await self._conn.execute("COMMIT")
            except Exception as exc:  # the connection broke: nobody in this batch is durable
                log.error("store write batch of %d failed: %s", len(batch), exc.__class__.__name__)
                await self._abort(turn, batch, exc)
                continue
            for settled in batch:
                if not settled.committed.done():
                    settled.committed.set_result(None)

    def _next_in_batch(self, served: int) -> _Turn | None:
        if served >= self._max_batch:
            return None
        try:
            turn = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        if turn is None:  # stop requested: finish this batch, then exit
            self._queue.put_nowait(None)
        return turn

    async def _serve(self, turn: _Turn, *, first: bool) -> bool:
        """Let one caller's body run; True if its writes are kept.

        The first body of a transaction runs without a savepoint (two round trips saved on the common,
        uncontended path): if it fails, the transaction holds nothing else and is simply restarted.
        """
        if turn.granted.cancelled():
            return False
        if first:
            turn.granted.set_result(None)
            if await turn.done:
                return True
            await self._conn.execute("ROLLBACK")
            await self._conn.execute("BEGIN IMMEDIATE")
            return False
        await self._conn.execute("SAVEPOINT turn")
        if turn.granted.done():  # the caller gave up while the savepoint was being made
            await self._conn.execute("RELEASE turn")
            return False
        turn.granted.set_result(None)
        if await turn.done:
            await self._conn.execute("RELEASE turn")
            return True
        await self._conn.execute("ROLLBACK TO turn")
        await self._conn.execute("RELEASE turn")
        return False

    async def _abort(self, current: _Turn | None, batch: list[_Turn], exc: Exception) -> None:
        with suppress(Exception):
            if self._conn.in_transaction:
                await self._conn.execute("ROLLBACK")
        for turn in [*batch, current]:
            if turn is None:
                continue
            if not turn.granted.done():
                turn.granted.set_exception(exc)
            elif turn.done.done() and turn.done.result() and not turn.committed.done():
                turn.committed.set_exception(exc)  # its body succeeded but will never be committed
