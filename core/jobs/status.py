"""What each job's status message last showed, and which statuses a tick has to build again.

A tick used to build every active job's view to compare it with the last one shown: with thousands of
queued jobs, that (and each position re-sorting the queue) held the event loop for seconds. A queued
job's view is made of its position and its model's expected run time (core.jobs.views.job_view), so
when neither moved since its view was last built, the view cannot have changed and is not built
again. Running jobs' views move with the clock; there are at most as many as engine slots.
"""

from __future__ import annotations

from dataclasses import dataclass

# Jobs looked at between turns handed back to the event loop during one tick: a tick that has to build
# thousands of views (the whole queue moved up) never blocks other work for long.
TICK_SLICE = 256

ViewInputs = tuple[int | None, float]  # a queued job's position and its model's median run time


@dataclass(slots=True)
class Shown:
    key: tuple  # core.jobs.views.view_key of what the message says
    at: float  # when it was last edited


class StatusBoard:
    def __init__(self, interval: float) -> None:
        self.interval = interval  # at most one edit per job this often, transitions excepted
        self._shown: dict[str, Shown] = {}
        self._inputs: dict[str, ViewInputs] = {}

    def unseen(self, job_id: str) -> None:
        """A job resumed after a restart: its message may say anything, so the next view is shown."""
        self._shown[job_id] = Shown((), 0.0)

    def due(self, job_id: str, now: float) -> bool:
        """Whether an ordinary (not forced) edit of the job's message is allowed yet."""
        shown = self._shown.get(job_id)
        return shown is None or now - shown.at >= self.interval

    def inputs_moved(self, job_id: str, inputs: ViewInputs) -> bool:
        """Whether a queued job's view inputs differ from those its last view was built from; records them."""
        if self._inputs.get(job_id) == inputs:
            return False
        self._inputs[job_id] = inputs
        return True

    def should_show(self, job_id: str, key: tuple, now: float, *, force: bool = False) -> bool:
        """Whether a view with `key` is worth an edit now; if so it counts as shown."""
        shown = self._shown.get(job_id)
        if not force and shown is not None and (key == shown.key or now - shown.at < self.interval):
            return False
        self._shown[job_id] = Shown(key, now)
        return True

    def forget(self, job_id: str) -> None:
        self._shown.pop(job_id, None)
        self._inputs.pop(job_id, None)
