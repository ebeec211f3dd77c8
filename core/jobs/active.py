"""The jobs the engine is driving, as it last saw them: found by id, or by owner without a scan.

`/cancel` without a job id means "my latest job here"; with thousands of active jobs, looking through
all of them for one person's was a scan per command.
"""

from __future__ import annotations

from core.store.jobs import JobRecord

Owner = tuple[str, str, str]  # platform, user_id, scope_id


def owner_of(job: JobRecord) -> Owner:
    return job.platform, job.user_id, job.scope_id


class ActiveJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, JobRecord] = {}
        self._by_owner: dict[Owner, dict[str, None]] = {}  # an ordered set of each owner's job ids

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, job_id: str) -> JobRecord | None:
        return self._jobs.get(job_id)

    def put(self, job: JobRecord) -> None:
        self._jobs[job.job_id] = job
        self._by_owner.setdefault(owner_of(job), {})[job.job_id] = None

    def pop(self, job_id: str) -> JobRecord | None:
        job = self._jobs.pop(job_id, None)
        if job is not None:
            mine = self._by_owner[owner_of(job)]
            del mine[job_id]
            if not mine:
                del self._by_owner[owner_of(job)]
        return job

    def records(self) -> list[JobRecord]:
        """A copy: callers may await while going through it, and jobs come and go meanwhile."""
        return list(self._jobs.values())

    def latest_cancellable(self, owner: Owner) -> JobRecord | None:
        """The owner's most recently created job that can still be cancelled."""
        jobs = (self._jobs[job_id] for job_id in self._by_owner.get(owner, ()))
        return max((job for job in jobs if job.state.is_cancellable), key=lambda j: j.created_at, default=None)
