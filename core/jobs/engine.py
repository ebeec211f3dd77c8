"""The job engine: admits jobs fairly, runs them on Segmind, keeps status true, survives restarts.

Every transition is written to the store before anything else happens, so a crash at any point
resumes from the last written state: accepted jobs are started, submitted ones polled (never
re-submitted), completed ones delivered again. The per-job flow lives in `core.jobs.run`, which gets
a `JobContext` (core.jobs.context) and sees this engine only through the `JobHost` protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from core import metrics
from core.catalog import MODELS
from core.clock import Clock
from core.errors import Conflict, NotFoundError
from core.jobs.admission import FairQueue, Ticket
from core.jobs.budget import RequestBudget
from core.jobs.context import CreditsAlarm, EngineConfig, JobContext, UploadCache
from core.jobs.explain import CANCELLED_MESSAGE
from core.jobs.messenger import MessageRemover, Messenger
from core.jobs.polling import DurationModel
from core.jobs.run import drive
from core.jobs.views import job_view, view_key
from core.segmind.remote import RemoteRunner
from core.store.sqlite import JobRecord, SqliteStore
from core.types import JobState, JobView

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds stop() waits for tasks to notice cancellation
# A final status is shown through a paced, fire-and-forget edit; a crash can fall between the commit
# and the edit. Jobs that ended this recently get their final status shown again at start.
RESHOW_WINDOW = 30 * 60.0


def ticket_for(job: JobRecord) -> Ticket:
    return Ticket(job.job_id, f"{job.platform}:{job.user_id}", job.scope_id)


class JobEngine:
    def __init__(
        self,
        *,
        store: SqliteStore,
        runner: RemoteRunner,
        clock: Clock,
        data_dir: Path,
        config: EngineConfig | None = None,
        rng: random.Random | None = None,
        uploads: UploadCache | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config or EngineConfig()
        self.queue = FairQueue(self.config.limits)
        self.budget = RequestBudget(clock, rate=self.config.status_rps)
        scale = self.config.duration_scale
        self.durations = DurationModel({k: m.typical_seconds * scale for k, m in MODELS.items()})
        self._messengers: dict[str, Messenger] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._active: dict[str, JobRecord] = {}  # latest record of every job the engine is driving
        self._last_shown: dict[str, tuple] = {}
        self._last_pushed: dict[str, float] = {}
        self._views_task: asyncio.Task[None] | None = None
        self._reshow: list[JobRecord] = []
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._running = False
        # what each job's run gets: explicit dependencies, and this engine only through the JobHost protocol
        self._context = JobContext(
            store=store, runner=runner, clock=clock, rng=rng or random.Random(), budget=self.budget,
            durations=self.durations, config=self.config, data_dir=Path(data_dir), host=self,
            messengers=self._messengers, credits=CreditsAlarm(), uploads=uploads,
        )
        self._quiet_platforms: set[str] = set()  # platforms that want no re-shown final statuses

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every unfinished job, then start admitting."""
        self._running = True
        for model in MODELS:
            for seconds in reversed(await self.store.recent_durations(model)):
                self.durations.observe(model, seconds)
        resumed = await self.store.unfinished_jobs()
        for job in resumed:
            self._active[job.job_id] = job
            self._last_shown[job.job_id] = ()
            if job.state == JobState.ACCEPTED:
                self.queue.push(ticket_for(job))
            elif job.state in (JobState.SUBMITTED, JobState.RUNNING):
                self.queue.mark_running(ticket_for(job))
                self._spawn(job.job_id)
            elif job.state == JobState.COMPLETED:
                self._spawn(job.job_id)
        if resumed:
            log.info("resuming %d unfinished job(s)", len(resumed))
        self._reshow = await self.store.finished_since(self.clock.now() - RESHOW_WINDOW)
        for platform in list(self._messengers):
            self._reshow_final_statuses(platform)
        self._views_task = asyncio.create_task(self._views_loop(), name="castbot-views")
        self._schedule()

    async def stop(self) -> None:
        """Stop taking work and abandon in-memory tasks; the store already holds every state."""
        self._running = False
        tasks = [*self._tasks.values(), *([self._views_task] if self._views_task else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE)
        self._tasks.clear()

    def register_messenger(self, platform: str, messenger: Messenger, *, reshow_finals: bool = True) -> None:
        """`reshow_finals=False` for a platform where a new session is a new conversation (the console):
        statuses of jobs that ended before it started are not shown again."""
        self._messengers[platform] = messenger
        if not reshow_finals:
            self._quiet_platforms.add(platform)
        self._reshow_final_statuses(platform)
        # jobs that finished while this platform was away get delivered now
        for job in list(self._active.values()):
            if job.platform == platform and job.state == JobState.COMPLETED and job.job_id not in self._tasks:
                self._spawn(job.job_id)

    def _reshow_final_statuses(self, platform: str) -> None:
        """Final statuses a crash may have swallowed: shown again, once, when their platform is back."""
        for job in [j for j in self._reshow if j.platform == platform]:
            self._reshow.remove(job)
            if platform in self._quiet_platforms:
                continue
            task = asyncio.create_task(self.push_view(job, force=True), name=f"castbot-reshow-{job.job_id}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    # --- admission -------------------------------------------------------------------------------

    async def enqueue(self, job: JobRecord) -> JobView:
        self._active[job.job_id] = job
        self.queue.push(ticket_for(job))
        metrics.JOBS.labels(state=job.state.value, model=job.model).inc()
        self._schedule()
        view = self.view(self._active.get(job.job_id, job))
        self._last_shown[job.job_id] = view_key(view)
        self._last_pushed[job.job_id] = self.clock.now()
        return view

    def _schedule(self) -> None:
        if not self._running:
            return
        for ticket in self.queue.pop_ready():
            self._spawn(ticket.job_id)
        metrics.QUEUE_DEPTH.set(len(self.queue))
        metrics.JOBS_IN_FLIGHT.set(self.queue.running)

    def _spawn(self, job_id: str) -> None:
        if job_id in self._tasks:
            return
        task = asyncio.create_task(drive(self._context, job_id), name=f"castbot-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t, j=job_id: self._task_done(j))

    def _task_done(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self.release_slot(job_id)
        job = self._active.get(job_id)
        if job is not None and job.state.is_final:
            self._forget(job_id)

    def release_slot(self, job_id: str) -> None:
        if self.queue.remove(job_id):
            self._schedule()

    def _forget(self, job_id: str) -> None:
        self._active.pop(job_id, None)
        self._last_shown.pop(job_id, None)
        self._last_pushed.pop(job_id, None)

    # --- state and views -------------------------------------------------------------------------

    async def record(self, job: JobRecord, *, push: bool = False) -> JobRecord:
        """Remember the latest row of a job; final states are shown at once."""
        previous = self._active.get(job.job_id)
        self._active[job.job_id] = job
        if previous is None or previous.state != job.state:
            metrics.JOBS.labels(state=job.state.value, model=job.model).inc()
        if push or job.state.is_final:
            await self.push_view(job, force=True)
        return job

    def refresh(self, job: JobRecord) -> None:
        """Take the new reply reference of a row an adapter changed; only that column.

        Adapters rewrite the reference after every status edit, so the row they read back can be older
        than the state the engine holds (a job completing meanwhile): the whole row would move it back.
        """
        current = self._active.get(job.job_id)
        if current is not None:
            self._active[job.job_id] = replace(current, reply_ref=job.reply_ref)

    def view(self, job: JobRecord) -> JobView:
        median, _ = self.durations.estimate(job.model)
        position = self.queue.position(job.job_id) if job.state == JobState.ACCEPTED else None
        return job_view(job, now=self.clock.now(), median=median, position=position,
                        slots=self.config.limits.max_in_flight)

    async def remove_messages(self, platform: str, refs: Sequence[str]) -> int:
        """Delete posted results through their platform's Messenger (0 when it is away or cannot)."""
        messenger = self._messengers.get(platform)
        return await messenger.remove(refs) if isinstance(messenger, MessageRemover) else 0

    async def push_view(self, job: JobRecord, *, force: bool = False) -> None:
        messenger = self._messengers.get(job.platform)
        if messenger is None and job.state.is_final and job.reply_ref:
            # the platform's adapter is not connected yet (a job can end right after a restart):
            # its final status is shown when the adapter registers
            self._reshow = [j for j in self._reshow if j.job_id != job.job_id] + [job]
            return
        if messenger is None or not job.reply_ref:
            return
        view = self.view(job)
        key = view_key(view)
        now = self.clock.now()
        if not force and (key == self._last_shown.get(job.job_id)
                          or now - self._last_pushed.get(job.job_id, 0.0) < self.config.view_interval):
            return
        self._last_shown[job.job_id] = key
        self._last_pushed[job.job_id] = now
        try:
            await messenger.show(job.reply_ref, view)
        except Exception:
            log.warning("status update for job %s failed", job.job_id, exc_info=True)

    async def _views_loop(self) -> None:
        while self._running:
            await self.clock.sleep(self.config.view_interval)
            for job in list(self._active.values()):
                if job.state.is_cancellable:  # queued or running: the status still moves
                    await self.push_view(job)

    # --- user actions ----------------------------------------------------------------------------

    async def cancel(self, job_id: str) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None:
            raise NotFoundError("There is no such job.")
        if not job.state.is_cancellable:
            if job.state == JobState.DELIVERED:
                raise Conflict("That job is already finished and delivered.")
            if job.state == JobState.COMPLETED:
                raise Conflict("That job is finished; its images are on their way.")
            return job  # already failed, cancelled or expired: nothing to stop
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task], timeout=STOP_GRACE)
        self.release_slot(job_id)
        job, _ = await self.store.finish_job(job_id, JobState.CANCELLED, error=CANCELLED_MESSAGE)
        await self.record(job)
        self._forget(job_id)
        return job

    def active_jobs(self) -> list[JobRecord]:
        return list(self._active.values())

