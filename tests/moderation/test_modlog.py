"""The moderation log: written through the store's writer path, read newest first, paged, filtered, aged out."""

from __future__ import annotations

from pathlib import Path

from core.store.modlog import DETAIL_MAX, ModLog
from core.store.sqlite import SqliteStore
from tests.fakes.clock import FakeClock


async def test_events_newest_first_filtered_and_paged(tmp_path: Path) -> None:
    clock = FakeClock()
    store = await SqliteStore.open(tmp_path / "db.sqlite3", clock=clock)
    try:
        log = ModLog(store)
        for i in range(5):
            await log.record(scope_id="g1", platform="telegram", kind="report" if i % 2 else "prompt_blocked",
                             now=1_800_000_000.0 + i, user_id=f"u{i % 2}", actor_id="a", detail="x" * 1000)
        await log.record(scope_id="g2", platform="telegram", kind="report", now=1_800_000_010.0)

        first = await log.events(scope_id="g1", limit=2)
        assert [e.created_at for e in first] == [1_800_000_004.0, 1_800_000_003.0]
        second = await log.events(scope_id="g1", limit=2, before_id=first[-1].event_id)
        assert [e.created_at for e in second] == [1_800_000_002.0, 1_800_000_001.0]
        assert {e.kind for e in await log.events(scope_id="g1", kinds=("report",))} == {"report"}
        assert {e.user_id for e in await log.events(scope_id="g1", user_id="u1")} == {"u1"}
        assert len(await log.events(scope_id="g1", since=1_800_000_003.0)) == 2
        assert all(len(e.detail) == DETAIL_MAX for e in first)

        assert await log.forget_before(1_800_000_002.0) == 2
        assert len(await log.events(scope_id="g1")) == 3
        assert len(await log.events(scope_id="g2")) == 1
    finally:
        await store.close()
