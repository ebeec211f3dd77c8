"""JobState answers for itself whether a job can still be cancelled and whether it is over."""

from __future__ import annotations

from core.types import JobState


def test_every_state_is_cancellable_being_delivered_or_final_exactly_once() -> None:
    for state in JobState:
        assert [state.is_cancellable, state == JobState.COMPLETED, state.is_final].count(True) == 1, state
    assert {s for s in JobState if s.is_cancellable} == {JobState.ACCEPTED, JobState.SUBMITTED, JobState.RUNNING}
