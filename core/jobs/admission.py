"""Fair admission: round-robin across users, with global, per-user and per-community caps.

One user's twenty jobs wait behind everyone else's next job, so a community is never starved by its
most enthusiastic member.

Every operation costs what it touches, not the size of the queue: a status tick asks for every queued
job's position, and 10,000 queued jobs once made each position re-sort the whole queue (seconds per
tick). Positions are built for all jobs at once, in one pass, and kept until the queue changes;
running counts are kept per user and per community; `pop_ready` looks again only at users whose
next job changed, unless a slot was freed (then everyone may be able to start).
"""

from __future__ import annotations

import itertools
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
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
    """Waiting jobs per user, served in rotation; tracks what is running for the caps.

    The rotation: users in the order of `_waiting` (a user who just started a job moves to the back),
    each user's jobs first in, first out. Jobs start, slots permitting, in the order of the rounds:
    every user's first waiting job, then every user's second, and so on; that order is the position.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._waiting: OrderedDict[str, OrderedDict[str, Ticket]] = OrderedDict()  # user -> their jobs, FIFO
        self._queued: dict[str, Ticket] = {}  # every waiting job by id
        self._turns: dict[str, int] = {}  # user -> when they joined the back of the rotation
        self._turn = itertools.count()
        self._running: dict[str, Ticket] = {}
        self._running_by_user: Counter[str] = Counter()
        self._running_by_scope: Counter[str] = Counter()
        self._positions: dict[str, int] | None = None  # every waiting job's position, until the queue changes
        self._recheck_all = False  # a slot was freed: any waiting user may be able to start
        self._recheck: set[str] = set()  # users whose next job changed since pop_ready last looked

    def __len__(self) -> int:
        return len(self._queued)

    @property
    def running(self) -> int:
        return len(self._running)

    def push(self, ticket: Ticket) -> None:
        if ticket.job_id in self._running or ticket.job_id in self._queued:
            return
        queue = self._waiting.get(ticket.user_key)
        if queue is None:
            queue = self._waiting[ticket.user_key] = OrderedDict()
            self._turns[ticket.user_key] = next(self._turn)
            self._recheck.add(ticket.user_key)  # a new head: it may fit where the others' did not
        queue[ticket.job_id] = ticket
        self._queued[ticket.job_id] = ticket
        self._positions = None

    def mark_running(self, ticket: Ticket) -> None:
        """A job resumed after a restart is already at Segmind: it takes a slot without queueing."""
        if ticket.job_id not in self._running:
            self._start(ticket)

    def remove(self, job_id: str) -> bool:
        """Forget a job, waiting or running. True when it was known."""
        ticket = self._running.pop(job_id, None)
        if ticket is not None:
            _decrement(self._running_by_user, ticket.user_key)
            _decrement(self._running_by_scope, ticket.scope_id)
            self._recheck_all = True
            return True
        ticket = self._queued.pop(job_id, None)
        if ticket is None:
            return False
        queue = self._waiting[ticket.user_key]
        was_head = next(iter(queue)) == job_id
        del queue[job_id]
        if not queue:
            self._drop_user(ticket.user_key)
        elif was_head:
            self._recheck.add(ticket.user_key)
        self._positions = None
        return True

    def pop_ready(self) -> list[Ticket]:
        """Every job that may start now, taking users in turn."""
        if self._recheck_all:
            users = list(self._waiting)
        else:  # everyone else was blocked by a cap the last time, and nothing has freed a slot since
            users = sorted((u for u in self._recheck if u in self._waiting), key=self._turns.__getitem__)
        self._recheck_all, self._recheck = False, set()
        started: list[Ticket] = []
        while users and len(self._running) < self.limits.max_in_flight:
            again = []  # users who started one: their next job may start in the next round
            for user in users:
                if len(self._running) >= self.limits.max_in_flight:
                    break
                queue = self._waiting[user]
                ticket = next(iter(queue.values()))
                if (self._running_by_user[user] >= self.limits.max_per_user
                        or self._running_by_scope[ticket.scope_id] >= self.limits.max_per_scope):
                    continue  # blocked until one of the caps frees a slot, which sets _recheck_all
                del queue[ticket.job_id]
                del self._queued[ticket.job_id]
                self._drop_user(user)
                if queue:  # the user moves to the back of the rotation
                    self._waiting[user] = queue
                    self._turns[user] = next(self._turn)
                    again.append(user)
                self._start(ticket)
                started.append(ticket)
            users = again
        if started:
            self._positions = None
        return started

    def positions(self) -> Mapping[str, int]:
        """Every waiting job's 1-based place in the order jobs would start if slots were free, ignoring
        caps. Built in one pass over the queue and kept until it changes."""
        if self._positions is None:
            self._positions = {ticket.job_id: n for n, ticket in enumerate(self._rounds(), start=1)}
        return self._positions

    def position(self, job_id: str) -> int | None:
        """One job's place (see `positions`)."""
        if self._positions is not None:
            return self._positions.get(job_id)
        ticket = self._queued.get(job_id)
        if ticket is None:
            return None
        queue = self._waiting[ticket.user_key]
        if next(reversed(queue)) == job_id:  # its user's newest job, as after enqueue: counted, not ordered
            return self._last_position(ticket.user_key, len(queue) - 1)
        return self.positions().get(job_id)

    def _rounds(self) -> Iterator[Ticket]:
        users = [iter(queue.values()) for queue in self._waiting.values()]
        while users:
            still = []
            for jobs in users:
                ticket = next(jobs, None)
                if ticket is not None:
                    yield ticket
                    still.append(jobs)
            users = still

    def _last_position(self, user: str, depth: int) -> int:
        """The place of `user`'s job in round `depth` (0-based): the jobs of earlier rounds, then those of
        users ahead of `user` in this round."""
        ahead, before = depth, True
        for other, queue in self._waiting.items():
            if other == user:
                before = False
            else:
                ahead += min(len(queue), depth) + (before and len(queue) > depth)
        return ahead + 1

    def _start(self, ticket: Ticket) -> None:
        self._running[ticket.job_id] = ticket
        self._running_by_user[ticket.user_key] += 1
        self._running_by_scope[ticket.scope_id] += 1

    def _drop_user(self, user: str) -> None:
        del self._waiting[user]
        del self._turns[user]


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
