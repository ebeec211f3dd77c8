"""core.jobs.admission: users served in turn, under global, per-user and per-community caps."""

from __future__ import annotations

import random

from core.jobs.admission import FairQueue, Limits, Ticket

ROOMY = Limits(max_in_flight=100, max_per_user=100, max_per_scope=100)


def t(job_id: str, user: str, scope: str = "guild") -> Ticket:
    return Ticket(job_id, f"discord:{user}", scope)


def started(queue: FairQueue) -> list[str]:
    return [ticket.job_id for ticket in queue.pop_ready()]


def test_users_take_turns_so_one_busy_user_does_not_starve_the_others():
    queue = FairQueue(ROOMY)
    for ticket in (t("a1", "ann"), t("a2", "ann"), t("a3", "ann"), t("b1", "bob"), t("c1", "cy")):
        queue.push(ticket)
    assert started(queue) == ["a1", "b1", "c1", "a2", "a3"]
    assert queue.running == 5 and len(queue) == 0


def test_the_global_cap_holds_jobs_until_a_slot_is_released():
    queue = FairQueue(Limits(max_in_flight=2, max_per_user=5, max_per_scope=5))
    for ticket in (t("a1", "ann"), t("b1", "bob"), t("c1", "cy")):
        queue.push(ticket)
    assert started(queue) == ["a1", "b1"]
    assert started(queue) == []  # full: nothing more starts
    assert queue.remove("b1") is True
    assert started(queue) == ["c1"]


def test_the_per_user_cap_lets_other_users_past_a_capped_one():
    queue = FairQueue(Limits(max_in_flight=10, max_per_user=1, max_per_scope=10))
    for ticket in (t("a1", "ann"), t("a2", "ann"), t("b1", "bob")):
        queue.push(ticket)
    assert started(queue) == ["a1", "b1"]
    assert queue.position("a2") == 1  # waiting for ann's own slot, not for a global one
    queue.remove("a1")
    assert started(queue) == ["a2"]


def test_the_per_community_cap_counts_every_user_of_that_community():
    queue = FairQueue(Limits(max_in_flight=10, max_per_user=10, max_per_scope=2))
    for ticket in (t("a1", "ann", "big"), t("b1", "bob", "big"), t("c1", "cy", "big"), t("d1", "dee", "small")):
        queue.push(ticket)
    assert started(queue) == ["a1", "b1", "d1"]  # cy waits: "big" already has two running
    queue.remove("a1")
    assert started(queue) == ["c1"]


def test_queue_positions_follow_the_rotation_and_move_up_as_jobs_start():
    queue = FairQueue(Limits(max_in_flight=1, max_per_user=1, max_per_scope=1))
    for ticket in (t("a1", "ann"), t("a2", "ann"), t("b1", "bob"), t("c1", "cy")):
        queue.push(ticket)
    assert [queue.position(j) for j in ("a1", "b1", "c1", "a2")] == [1, 2, 3, 4]
    assert started(queue) == ["a1"]
    assert queue.position("a1") is None  # running, no longer queued
    assert [queue.position(j) for j in ("b1", "c1", "a2")] == [1, 2, 3]
    assert queue.position("nope") is None


def test_a_resumed_running_job_takes_its_slot_without_queueing():
    queue = FairQueue(Limits(max_in_flight=1, max_per_user=1, max_per_scope=1))
    queue.mark_running(t("old", "ann"))
    queue.push(t("new", "bob"))
    assert started(queue) == []
    assert queue.remove("old") is True
    assert started(queue) == ["new"]


def test_pushing_a_known_job_again_does_not_queue_it_twice():
    queue = FairQueue(ROOMY)
    queue.push(t("a1", "ann"))
    queue.push(t("a1", "ann"))
    assert len(queue) == 1
    assert started(queue) == ["a1"]
    queue.push(t("a1", "ann"))  # a replay of a running job
    assert len(queue) == 0 and started(queue) == []


def test_removing_a_waiting_job_forgets_it_and_unknown_ids_are_false():
    queue = FairQueue(Limits(max_in_flight=1, max_per_user=1, max_per_scope=1))
    queue.push(t("a1", "ann"))
    queue.push(t("b1", "bob"))
    assert queue.remove("b1") is True
    assert queue.remove("b1") is False
    assert len(queue) == 1 and queue.position("a1") == 1


# --- the fast queue against the straightforward definition --------------------------------------


class ReferenceQueue:
    """The rotation written the obvious way (the queue before it was made fast): every position
    re-sorts the whole queue, every start scans every user. Slow, and plainly right."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.waiting: dict[str, list[Ticket]] = {}  # insertion order is the rotation
        self.running: dict[str, Ticket] = {}

    def push(self, ticket: Ticket) -> None:
        if ticket.job_id in self.running or any(x.job_id == ticket.job_id for q in self.waiting.values() for x in q):
            return
        self.waiting.setdefault(ticket.user_key, []).append(ticket)

    def mark_running(self, ticket: Ticket) -> None:
        self.running[ticket.job_id] = ticket

    def remove(self, job_id: str) -> bool:
        if self.running.pop(job_id, None) is not None:
            return True
        for user, queue in list(self.waiting.items()):
            for ticket in queue:
                if ticket.job_id == job_id:
                    queue.remove(ticket)
                    if not queue:
                        del self.waiting[user]
                    return True
        return False

    def pop_ready(self) -> list[Ticket]:
        started: list[Ticket] = []
        progress = True
        while progress and len(self.running) < self.limits.max_in_flight:
            progress = False
            for user in list(self.waiting):
                if len(self.running) >= self.limits.max_in_flight:
                    break
                ticket = self.waiting[user][0]
                mine = sum(1 for x in self.running.values() if x.user_key == user)
                scope = sum(1 for x in self.running.values() if x.scope_id == ticket.scope_id)
                if mine >= self.limits.max_per_user or scope >= self.limits.max_per_scope:
                    continue
                queue = self.waiting.pop(user)
                queue.pop(0)
                if queue:
                    self.waiting[user] = queue  # to the back of the rotation
                self.running[ticket.job_id] = ticket
                started.append(ticket)
                progress = True
        return started

    def order(self) -> list[str]:
        """The round-robin order jobs would start in: every user's first job, then every second, ..."""
        queues = list(self.waiting.values())
        depth = max((len(q) for q in queues), default=0)
        return [q[i].job_id for i in range(depth) for q in queues if i < len(q)]


def random_run(seed: int, steps: int = 300) -> None:
    rng = random.Random(seed)
    limits = Limits(max_in_flight=rng.randint(1, 8), max_per_user=rng.randint(1, 3), max_per_scope=rng.randint(1, 4))
    fast, slow = FairQueue(limits), ReferenceQueue(limits)
    users = [f"u{i}" for i in range(rng.randint(1, 7))]
    known: list[Ticket] = []
    for step in range(steps):
        roll = rng.random()
        if roll < 0.45 or not known:
            ticket = t(f"j{step}", rng.choice(users), rng.choice(("s1", "s2", "s3")))
            known.append(ticket)
        elif roll < 0.5:
            ticket = rng.choice(known)  # a replay: never queued twice
        else:
            ticket = None
        if ticket is not None and rng.random() < 0.05:
            fast.mark_running(ticket)
            slow.mark_running(ticket)
        elif ticket is not None:
            fast.push(ticket)
            slow.push(ticket)
        elif roll < 0.75:
            job_id = rng.choice(known).job_id  # a cancel or a finish, waiting, running or long gone
            assert fast.remove(job_id) == slow.remove(job_id)
        if rng.random() < 0.6:
            assert fast.pop_ready() == slow.pop_ready(), f"seed {seed} step {step}"
        order = slow.order()
        probe = rng.choice(known).job_id
        expected = order.index(probe) + 1 if probe in order else None
        assert fast.position(probe) == expected, f"seed {seed} step {step}: position of {probe}"
        if rng.random() < 0.3:
            assert dict(fast.positions()) == {job_id: n for n, job_id in enumerate(order, start=1)}
        assert len(fast) == len(order) and fast.running == len(slow.running)


def test_starts_and_positions_match_the_straightforward_rotation_on_random_queues():
    for seed in range(200):
        random_run(seed)


def test_a_new_jobs_position_is_counted_without_ordering_the_queue_and_agrees_with_the_full_order():
    queue = FairQueue(Limits(max_in_flight=1, max_per_user=1, max_per_scope=1))
    for i, user in enumerate("aaabbcaaab"):
        queue.push(t(f"{user}{i}", user))
        fresh = queue.position(f"{user}{i}")  # the cached positions were dropped by the push
        assert fresh == queue.positions()[f"{user}{i}"]
    assert list(queue.positions()) == ["a0", "b3", "c5", "a1", "b4", "a2", "b9", "a6", "a7", "a8"]
