"""Fair admission: round-robin across users, with global, per-user and per-community caps.

One user's twenty jobs wait behind everyone else's next job, so a community is never starved by its
most enthusiastic member.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_in_flight: int = 16  # jobs at Segmind at once, whole process
    max_per_user: int = 2
    max_per_scope: int = 6


@dataclass(frozen=True, slots=True)
class Ticket:
    job_id: str
    user_key: str  # platform:user_id
    scope_id: str


class FairQueue:
    """Waiting jobs per user, served in rotation; tracks what is running for the caps."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._waiting: OrderedDict[str, deque[Ticket]] = OrderedDict()  # user -> their jobs, FIFO
        self._running: dict[str, Ticket] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @property
    def running(self) -> int:
        return len(self._running)

    def push(self, ticket: Ticket) -> None:
        queued = self._waiting.get(ticket.user_key, ())
        if ticket.job_id in self._running or any(t.job_id == ticket.job_id for t in queued):
            return
        self._waiting.setdefault(ticket.user_key, deque()).append(ticket)

    def mark_running(self, ticket: Ticket) -> None:
        """A job resumed after a restart is already at Segmind: it takes a slot without queueing."""
        self._running[ticket.job_id] = ticket

    def remove(self, job_id: str) -> bool:
        """Forget a job, waiting or running. True when it was known."""
        if self._running.pop(job_id, None) is not None:
            return True
        for user, queue in list(self._waiting.items()):
            for ticket in queue:
                if ticket.job_id == job_id:
                    queue.remove(ticket)
                    if not queue:
                        del self._waiting[user]
                    return True
        return False

    def _count(self, attr: str, value: str) -> int:
        return sum(1 for t in self._running.values() if getattr(t, attr) == value)

    def pop_ready(self) -> list[Ticket]:
        """Every job that may start now, taking users in turn."""
        started: list[Ticket] = []
        progress = True
        while progress and len(self._running) < self.limits.max_in_flight:
            progress = False
            for user in list(self._waiting):
                if len(self._running) >= self.limits.max_in_flight:
                    break
                queue = self._waiting[user]
                ticket = queue[0]
                if self._count("user_key", user) >= self.limits.max_per_user:
                    continue
                if self._count("scope_id", ticket.scope_id) >= self.limits.max_per_scope:
                    continue
                queue.popleft()
                # the user moves to the back of the rotation
                del self._waiting[user]
                if queue:
                    self._waiting[user] = queue
                self._running[ticket.job_id] = ticket
                started.append(ticket)
                progress = True
        return started

    def position(self, job_id: str) -> int | None:
        """1-based place in the order jobs would start if slots were free, ignoring caps."""
        queues = [list(q) for q in self._waiting.values()]
        order: list[str] = []
        depth = max((len(q) for q in queues), default=0)
        for i in range(depth):
            order += [q[i].job_id for q in queues if i < len(q)]
        return order.index(job_id) + 1 if job_id in order else None
