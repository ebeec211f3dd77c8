"""A job's status as users see it: position, ETA and progress from its row and what the engine knows."""

from __future__ import annotations

from core.jobs.polling import expected_remaining
from core.store.jobs import JobRecord
from core.types import JobState, JobView


def job_view(job: JobRecord, *, now: float, median: float, position: int | None, slots: int) -> JobView:
    """`median`: the model's learned run time; `position`: 1-based place in the queue; `slots`: jobs
    the engine runs at once (a queued job waits about one median per wave of them)."""
    eta: float | None = None
    progress = 0.0
    if job.state == JobState.ACCEPTED:
        waves = (position or 1) / max(1, slots)
        eta = median * (1 + waves)
    elif job.state in (JobState.SUBMITTED, JobState.RUNNING):
        ran = now - (job.submitted_at or now)
        eta = expected_remaining(ran, median)
        progress = min(0.95, ran / median) if median > 0 else 0.0
    elif job.state in (JobState.COMPLETED, JobState.DELIVERED):
        progress = 1.0
    return JobView(
        job_id=job.job_id,
        state=job.state,
        model=job.model,
        prompt=job.prompt,
        owner_id=job.user_id,
        position=position if job.state == JobState.ACCEPTED else None,
        elapsed=max(0.0, (job.finished_at or now) - job.created_at),
        eta=eta,
        progress=progress,
        outputs=() if job.state == JobState.WITHHELD else job.outputs,  # held back: not shown anywhere
        error=job.error,
        seed=job.seed,
        cost=job.cost,
    )


def view_key(view: JobView) -> tuple:
    """What makes a status message worth editing: elapsed time alone is not enough."""
    eta = None if view.eta is None else round(view.eta / 10)
    return (view.state, view.position, int(view.progress * 20), eta, view.error)
