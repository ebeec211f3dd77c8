"""The SQLite connections under the store: one writer path, and a reader for snapshots and plain reads.

aiosqlite runs one connection on one thread, and coroutines sharing it are not isolated from each
other's transactions, so every read-modify-write goes through `transaction()`, whose bodies run one at
a time inside `BEGIN IMMEDIATE` and are committed in groups (core.store.writer: one fsync for all
writers waiting at that moment). Plain reads use a second connection, which in WAL mode sees only
committed data and never waits for the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import aiosqlite

from core.store.schema import apply_migrations
from core.store.writer import MAX_BATCH, GroupWriter

BUSY_TIMEOUT_MS = 5000
# FULL: a job the user saw accepted (and its hold) survives power loss, not only a process crash.
SYNCHRONOUS = "FULL"

StepHook = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Connections:
    writer: aiosqlite.Connection
    reader: aiosqlite.Connection


async def _connect(path: str, *, read_only: bool, synchronous: str = SYNCHRONOUS) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        await conn.execute("PRAGMA query_only = ON")
    else:
        await conn.execute("PRAGMA journal_mode = WAL")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        await conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


async def open_connections(path: str | Path, *, synchronous: str = SYNCHRONOUS) -> Connections:
    """Open (creating and migrating) the database file; ":memory:" shares one connection for both."""
    path = str(path)
    writer = await _connect(path, read_only=False, synchronous=synchronous)
    try:
        await apply_migrations(writer)
        reader = writer if path == ":memory:" else await _connect(path, read_only=True)
    except BaseException:
        await writer.close()
        raise
    return Connections(writer, reader)


class Database:
    """The writer path and the reader of one SQLite database; the store's domain methods build on it."""

    def __init__(self, conns: Connections, *, on_step: StepHook | None = None, max_batch: int = MAX_BATCH) -> None:
        self._conn = conns.writer
        self._reader = conns.reader
        self._read_lock = asyncio.Lock()
        self._writer = GroupWriter(conns.writer, max_batch=max_batch)
        self._on_step = on_step

    def start(self) -> None:
        self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()  # lets queued writes finish first
        if self._reader is not self._conn:
            await self._reader.close()
        await self._conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the one writer path ------------------------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """The one writer path: a body that runs alone, inside `BEGIN IMMEDIATE`, and is committed (in a
        group with other waiting writers, see core.store.writer) before the `async with` exits."""
        return self._writer.transaction()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """Several reads that must agree (a quota is four queries): one read transaction on the reader.

        Outside a transaction each SELECT sees the latest commit, so a capture committed between two of
        them made /quota briefly show neither the hold nor the charge.
        """
        if self._reader is self._conn:  # ":memory:": one connection, so read through the writer path
            async with self.transaction() as conn:
                yield conn
            return
        async with self._read_lock:
            await self._reader.execute("BEGIN")
            try:
                yield self._reader
            finally:
                await self._reader.execute("COMMIT")

    async def step(self, name: str) -> None:
        if self._on_step is not None:
            await self._on_step(name)

    # Reads use execute_fetchall: one hop to the connection's thread instead of three
    # (execute, fetch, close); round trips, not SQL, dominate the cost of a job.
    async def fetch_all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, tuple(args)))

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Any | None:
        rows = list(await self._reader.execute_fetchall(sql, tuple(args)))
        return rows[0] if rows else None

    async def backup(self, dest: str | Path) -> None:
        """A consistent copy through SQLite's online backup API, taken while the bot keeps running."""
        target = await aiosqlite.connect(str(dest))
        try:
            await self._reader.backup(target)
        finally:
            await target.close()


