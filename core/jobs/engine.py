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
from dataclasses import replace
from pathlib import Path

from core import metrics
from core.catalog import MODELS
from core.clock import Clock
from core.errors import NotFoundError
from core.jobs.active import ActiveJobs, Owner
from core.jobs.admission import FairQueue, Ticket
from core.jobs.budget import RequestBudget
from core.jobs.context import CreditsAlarm, EngineConfig, JobContext, UploadCache
from core.jobs.explain import CANCELLED_MESSAGE, refuse_cancel
from core.jobs.messenger import Messenger
from core.jobs.polling import DurationModel
from core.jobs.run import drive
from core.jobs.status import TICK_SLICE, StatusBoard, ViewInputs
from core.jobs.views import job_view, view_key
from core.moderation.classifier import NoClassifier
from core.moderation.gate import SafetyGate
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
        gate: SafetyGate | None = None,
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
        self._active = ActiveJobs()  # latest record of every job the engine is driving
        self._board = StatusBoard(self.config.view_interval)
        self.views_built = 0  # every JobView built: the seam that shows a tick builds only what changed
        self._views_task: asyncio.Task[None] | None = None
        self._reshow: dict[str, JobRecord] = {}  # final statuses to show again when their platform is back
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._running = False
        # what each job's run gets: explicit dependencies, and this engine only through the JobHost protocol
        self._context = JobContext(
            store=store, runner=runner, clock=clock, rng=rng or random.Random(), budget=self.budget,
            durations=self.durations, config=self.config, data_dir=Path(data_dir), host=self,
            messengers=self._messengers, credits=CreditsAlarm(), uploads=uploads,
            gate=gate or SafetyGate(NoClassifier("no classifier was given"), store=store, clock=clock),
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
            self._active.put(job)
            self._board.unseen(job.job_id)
            if job.state == JobState.ACCEPTED:
                self.queue.push(ticket_for(job))
            elif job.state in (JobState.SUBMITTED, JobState.RUNNING):
                self.queue.mark_running(ticket_for(job))
                self._spawn(job.job_id)
            elif job.state == JobState.COMPLETED:
                self._spawn(job.job_id)
        if resumed:
            log.info("resuming %d unfinished job(s)", len(resumed))
        self._reshow = {j.job_id: j for j in await self.store.finished_since(self.clock.now() - RESHOW_WINDOW)}
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

    @property
    def gate(self) -> SafetyGate:
        return self._context.gate

    def register_messenger(self, platform: str, messenger: Messenger, *, reshow_finals: bool = True) -> None:
        """`reshow_finals=False` for a platform where a new session is a new conversation (the console):
        statuses of jobs that ended before it started are not shown again."""
        self._messengers[platform] = messenger
        if not reshow_finals:
            self._quiet_platforms.add(platform)
        self._reshow_final_statuses(platform)
        # jobs that finished while this platform was away get delivered now
        for job in self._active.records():
            if job.platform == platform and job.state == JobState.COMPLETED and job.job_id not in self._tasks:
                self._spawn(job.job_id)

    def _reshow_final_statuses(self, platform: str) -> None:
        """Final statuses a crash may have swallowed: shown again, once, when their platform is back."""
        for job in [j for j in self._reshow.values() if j.platform == platform]:
            del self._reshow[job.job_id]
            if platform in self._quiet_platforms:
                continue
            task = asyncio.create_task(self.push_view(job, force=True), name=f"castbot-reshow-{job.job_id}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    # --- admission -------------------------------------------------------------------------------

    async def enqueue(self, job: JobRecord) -> JobView:
        self._active.put(job)
        self.queue.push(ticket_for(job))
        metrics.JOBS.labels(state=job.state.value, model=job.model).inc()
        self._schedule()
        job = self._active.get(job.job_id) or job
        if job.state == JobState.ACCEPTED:
            self._board.inputs_moved(job.job_id, self._view_inputs(job))
        view = self.view(job)
        self._board.should_show(job.job_id, view_key(view), self.clock.now(), force=True)
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
        self._active.pop(job_id)
        self._board.forget(job_id)

    # --- state and views -------------------------------------------------------------------------

    async def record(self, job: JobRecord, *, push: bool = False) -> JobRecord:
        """Remember the latest row of a job; final states are shown at once."""
        previous = self._active.get(job.job_id)
        self._active.put(job)
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
            self._active.put(replace(current, reply_ref=job.reply_ref))

    def view(self, job: JobRecord) -> JobView:
        self.views_built += 1
        metrics.STATUS_VIEWS.inc()
        median, _ = self.durations.estimate(job.model)
        position = self.queue.position(job.job_id) if job.state == JobState.ACCEPTED else None
        return job_view(job, now=self.clock.now(), median=median, position=position,
                        slots=self.config.limits.max_in_flight)

    def messenger(self, platform: str) -> Messenger | None:
        return self._messengers.get(platform)

    async def push_view(self, job: JobRecord, *, force: bool = False) -> None:
        messenger = self._messengers.get(job.platform)
        if messenger is None and job.state.is_final and job.reply_ref:
            # the platform's adapter is not connected yet (a job can end right after a restart):
            # its final status is shown when the adapter registers
            self._reshow.pop(job.job_id, None)
            self._reshow[job.job_id] = job
            return
        if messenger is None or not job.reply_ref:
            return
        view = self.view(job)
        if not self._board.should_show(job.job_id, view_key(view), self.clock.now(), force=force):
            return
        try:
            await messenger.show(job.reply_ref, view)
        except Exception:
            log.warning("status update for job %s failed", job.job_id, exc_info=True)

    async def _views_loop(self) -> None:
        while self._running:
            await self.clock.sleep(self.config.view_interval)
            await self.push_views()

    async def push_views(self) -> None:
        """One status tick: the views that can have changed are built and shown; the others cost a lookup."""
        for n, seen in enumerate(self._active.records(), start=1):
            if n % TICK_SLICE == 0:
                await asyncio.sleep(0)  # let the loop serve others between slices of a long tick
            job = self._active.get(seen.job_id)  # the latest row: jobs move on (or end) while a tick yields
            if job is not None and self._may_have_moved(job):
                await self.push_view(job)

    def _may_have_moved(self, job: JobRecord) -> bool:
        if not job.state.is_cancellable:  # only queued and running statuses move on their own
            return False
        if not job.reply_ref or job.platform not in self._messengers:
            return False
        if not self._board.due(job.job_id, self.clock.now()):
            return False
        return job.state != JobState.ACCEPTED or self._board.inputs_moved(job.job_id, self._view_inputs(job))

    def _view_inputs(self, job: JobRecord) -> ViewInputs:
        """What a queued job's view is made of besides its row (see core.jobs.views.job_view)."""
        return self.queue.position(job.job_id), self.durations.estimate(job.model)[0]

    # --- user actions ----------------------------------------------------------------------------

    async def cancel(self, job_id: str) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None:
            raise NotFoundError("There is no such job.")
        if not job.state.is_cancellable:
            refuse_cancel(job.state)
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
        return self._active.records()

    def latest_cancellable(self, owner: Owner) -> JobRecord | None:
        """`owner`'s (platform, user_id, scope_id) newest job that is still queued or running."""
        return self._active.latest_cancellable(owner)

