"""Which answers only their asker may see is decided in core; adapters only choose how (ephemeral, a DM)."""

from __future__ import annotations

from core.commands import answers as a


def test_the_log_and_the_filter_list_are_for_the_asker_only() -> None:
    assert a.private_reason(a.LogPage(entries=(), page=1, has_more=False)) == "it shows members' prompts"
    assert "refuses" in (a.private_reason(a.FilterPage(filters=(), page=1, has_more=False)) or "")
    assert a.private_reason(a.Reported(job_id="j1")) is None
    assert a.private_reason(a.Throttled(retry_after=3)) is None
