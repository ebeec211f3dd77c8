"""core.jobs.admission: users served in turn, under global, per-user and per-community caps."""

from __future__ import annotations

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
