"""The retention pass: finished jobs older than the retention lose their prompts and files, on the clock.

Runs as one background task started and stopped with the app. Each pass handles at most `batch` jobs
and `batch` stray input files, so a first pass over a years-old data dir does not hold the writer for
minutes; the next pass (an interval later, or at once while a full batch was found) continues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.clock import Clock
from core.privacy import FINAL_NAMES, IN_FINALS, NOT_SCRUBBED, Scrubber
from core.store.modlog import ModLog
from core.store.sqlite import SqliteStore

log = logging.getLogger(__name__)

DAY = 86_400.0
INTERVAL = 3_600.0  # an hour between passes: retention is counted in days
BATCH = 200


class RetentionTask:
    def __init__(self, store: SqliteStore, scrubber: Scrubber, *, clock: Clock, days: int,
                 interval: float = INTERVAL, batch: int = BATCH) -> None:
        self._store = store
        self._scrubber = scrubber
        self._clock = clock
        self._days = days
        self._interval = interval
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._days > 0  # 0 keeps everything (documented in docs/privacy.md)

    async def prune_once(self) -> tuple[int, int]:
        """One bounded pass: (jobs scrubbed, files deleted)."""
        await self._scrubber.anonymize_spent_quota()  # even with retention off: forget-me relies on it
        if not self.enabled:
            return 0, 0
        cutoff = self._clock.now() - self._days * DAY
        rows = await self._store.fetch_all(
            f"SELECT job_id FROM jobs WHERE {IN_FINALS} AND COALESCE(finished_at, created_at) < ? "
            f"AND {NOT_SCRUBBED} ORDER BY created_at LIMIT ?", (*FINAL_NAMES, cutoff, self._batch))
        job_ids = [r[0] for r in rows]
        events = await ModLog(self._store).forget_before(cutoff)  # the moderation log ages like the jobs it is about
        if events:
            log.info("retention: dropped %d moderation log entr(ies) older than %d day(s)", events, self._days)
        files = await self._scrubber.scrub_jobs(job_ids)
        files += await self._scrubber.orphan_inputs(older_than=cutoff, limit=self._batch)
        if job_ids or files:
            log.info("retention: scrubbed %d job(s), deleted %d file(s) older than %d day(s)",
                     len(job_ids), files, self._days)
        return len(job_ids), files

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                jobs, _ = await self.prune_once()
            except Exception:  # a bad pass must not end retention for the process's life
                log.exception("retention pass failed; trying again in %.0f s", self._interval)
                jobs = 0
            await self._clock.sleep(0 if jobs >= self._batch else self._interval)
