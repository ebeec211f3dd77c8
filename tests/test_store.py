"""SqliteStore jobs on a real SQLite file: creation, idempotency, lifecycle, history, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from core.errors import NotAllowed
from core.store.schema import SCHEMA_VERSION, SchemaTooNew
from core.store.sqlite import NewJob, SqliteStore
from core.types import JobState
from tests.fakes.clock import FakeClock


def make_job(idem: str, *, user: str = "u1", scope: str = "g1", cost: int = 1, model: str = "poses",
             platform: str = "discord", **extra) -> NewJob:
    return NewJob(
        idem_key=idem, platform=platform, user_id=user, user_name=f"name-{user}", scope_id=scope,
        chat_id="c1", model=model, prompt="a knight", payload={"prompt": "a knight", "steps": 20},
        inputs={"character": "/data/in/abc.jpg"}, cost=cost, reply_ref=f"ref-{idem}", **extra,
    )


async def test_create_and_read_back(store: SqliteStore, clock: FakeClock) -> None:
    job, created = await store.create_job(make_job("evt-1", seed=42, character_id="ch1"))
    assert created
    assert job.state is JobState.ACCEPTED
    assert job.payload == {"prompt": "a knight", "steps": 20}
    assert job.inputs == {"character": "/data/in/abc.jpg"}
    assert (job.seed, job.character_id, job.reply_ref, job.cost) == (42, "ch1", "ref-evt-1", 1)
    assert job.created_at == clock.now()
    assert await store.get_job(job.job_id) == job
    assert await store.get_job("nope") is None
    assert await store.ledger_totals() == {"grant": 0, "hold": 1, "capture": 0, "release": 0}


async def test_replayed_event_returns_same_job_and_charges_once(store: SqliteStore) -> None:
    first, created = await store.create_job(make_job("evt-1", cost=3))
    again, created_again = await store.create_job(make_job("evt-1", cost=3))
    assert created and not created_again
    assert again.job_id == first.job_id
    assert (await store.ledger_totals())["hold"] == 3


async def test_same_key_twenty_times_concurrently_gives_one_job_one_hold(store: SqliteStore) -> None:
    results = await asyncio.gather(*(store.create_job(make_job("evt-dup", cost=2)) for _ in range(20)))
    assert len({job.job_id for job, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert (await store.ledger_totals())["hold"] == 2
    assert await store.job_counts() == {"accepted": 1}


async def test_update_job_records_progress(store: SqliteStore) -> None:
    job, _ = await store.create_job(make_job("evt-1"))
    updated = await store.update_job(job.job_id, state=JobState.SUBMITTED, remote_ref="req-123",
                                     attempts=1, submitted_at=100.0)
    assert (updated.state, updated.remote_ref, updated.attempts, updated.submitted_at) == (
        JobState.SUBMITTED, "req-123", 1, 100.0)
    updated = await store.update_job(job.job_id, state=JobState.RUNNING, started_at=101.0, reply_ref="ref-2")
    assert (updated.state, updated.started_at, updated.reply_ref, updated.remote_ref) == (
        JobState.RUNNING, 101.0, "ref-2", "req-123")
    assert await store.get_job(job.job_id) == updated


async def test_final_job_cannot_be_moved(store: SqliteStore) -> None:
    job, _ = await store.create_job(make_job("evt-1"))
    failed, changed = await store.finish_job(job.job_id, JobState.FAILED, error="content blocked")
    assert changed and failed.error == "content blocked" and failed.finished_at is not None
    unchanged = await store.update_job(job.job_id, state=JobState.RUNNING, remote_ref="late")
    assert unchanged == failed
    again, changed_again = await store.finish_job(job.job_id, JobState.DELIVERED)
    assert not changed_again and again.state is JobState.FAILED
    with pytest.raises(ValueError, match="finish_job"):
        await store.update_job(job.job_id, state=JobState.DELIVERED)
    assert await store.ledger_totals() == {"grant": 0, "hold": 1, "capture": 0, "release": 1}
    # where its status message lives may still be recorded: it was posted after the job ended
    moved = await store.update_job(job.job_id, reply_ref="ref-posted", state=JobState.RUNNING)
    assert moved.reply_ref == "ref-posted" and moved.state is JobState.FAILED


async def test_outputs_are_appended_in_order(store: SqliteStore) -> None:
    job, _ = await store.create_job(make_job("evt-1"))
    await store.add_outputs(job.job_id, ["/o/1.png"])
    job = await store.add_outputs(job.job_id, ["/o/2.png", "/o/3.png"])
    assert job.outputs == ("/o/1.png", "/o/2.png", "/o/3.png")


async def test_unfinished_jobs_oldest_first(store: SqliteStore, clock: FakeClock) -> None:
    ids = []
    for i in range(4):
        job, _ = await store.create_job(make_job(f"evt-{i}"))
        ids.append(job.job_id)
        await clock.advance(1)
    await store.finish_job(ids[1], JobState.DELIVERED)
    await store.update_job(ids[2], state=JobState.COMPLETED, completed_at=5.0)
    assert [j.job_id for j in await store.unfinished_jobs()] == [ids[0], ids[2], ids[3]]


async def test_history_newest_first_with_filters(store: SqliteStore, clock: FakeClock) -> None:
    for i, (user, platform) in enumerate([("a", "discord"), ("b", "discord"), ("a", "telegram"), ("a", "discord")]):
        job, _ = await store.create_job(make_job(f"evt-{i}", user=user, platform=platform))
        await store.add_outputs(job.job_id, [f"/o/{i}.png"])
        await clock.advance(10)
    await store.create_job(make_job("other-scope", scope="g2"))
    everyone = await store.history(scope_id="g1")
    assert [j.idem_key for j in everyone] == ["evt-3", "evt-2", "evt-1", "evt-0"]
    assert everyone[0].outputs == ("/o/3.png",)
    mine = await store.history(scope_id="g1", user_id="a", platform="discord", limit=1)
    assert [j.idem_key for j in mine] == ["evt-3"]


async def test_recent_durations_and_counts(store: SqliteStore) -> None:
    for i, (submitted, completed) in enumerate([(0.0, 30.0), (10.0, 70.0), (5.0, None)]):
        job, _ = await store.create_job(make_job(f"evt-{i}"))
        await store.update_job(job.job_id, state=JobState.SUBMITTED, submitted_at=submitted)
        if completed is not None:
            await store.update_job(job.job_id, state=JobState.COMPLETED, completed_at=completed)
            await store.finish_job(job.job_id, JobState.DELIVERED)
    assert await store.recent_durations("poses") == [60.0, 30.0]
    assert await store.recent_durations("sheet") == []
    assert await store.job_counts(scope_id="g1") == {"delivered": 2, "submitted": 1}
    assert await store.job_counts(scope_id="elsewhere") == {}


async def test_banned_user_is_refused_and_nothing_is_written(store: SqliteStore) -> None:
    await store.set_ban(scope_id="g1", platform="discord", user_id="u1", banned=True)
    with pytest.raises(NotAllowed, match="banned from castbot in this community"):
        await store.create_job(make_job("evt-1"))
    assert await store.job_counts() == {}
    assert (await store.ledger_totals())["hold"] == 0
    await store.create_job(make_job("evt-2", scope="g2"))  # a ban is per community
    await store.set_ban(scope_id="g1", platform="discord", user_id="u1", banned=False)
    _, created = await store.create_job(make_job("evt-1"))
    assert created


async def test_malformed_jobs_are_refused_before_writing(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="JSON"):
        await store.create_job(NewJob(**{**_fields(make_job("evt-1")), "payload": {"x": object()}}))
    with pytest.raises(ValueError, match="cost"):
        await store.create_job(make_job("evt-2", cost=-1))
    with pytest.raises(ValueError, match="idempotency"):
        await store.create_job(make_job(""))
    assert await store.job_counts() == {}


def _fields(job: NewJob) -> dict:
    return {name: getattr(job, name) for name in NewJob.__slots__}


async def test_cancelled_writer_rolls_back_and_store_keeps_working(tmp_path: Path, clock: FakeClock) -> None:
    entered = asyncio.Event()

    async def stall_after_job_insert(step: str) -> None:
        if step == "job_inserted":
            entered.set()
            await asyncio.Event().wait()  # parked until cancelled

    async with await SqliteStore.open(tmp_path / "db.sqlite3", clock=clock,
                                      on_step=stall_after_job_insert) as store:
        task = asyncio.create_task(store.create_job(make_job("evt-1")))
        await asyncio.wait_for(entered.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await store.get_job_by_idem("evt-1") is None
        assert await store.ledger_totals() == {"grant": 0, "hold": 0, "capture": 0, "release": 0}
        await store.set_ban(scope_id="g9", platform="discord", user_id="x", banned=True)  # writer usable


async def test_reopen_keeps_data_and_schema(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "db.sqlite3"
    async with await SqliteStore.open(path, clock=clock) as store:
        job, _ = await store.create_job(make_job("evt-1"))
    async with await SqliteStore.open(path, clock=clock) as store:
        assert (await store.get_job(job.job_id)) == job
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused_without_touching_it(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE from_the_future (x)")
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match=r"schema version \d+, but this castbot only knows up to"):
        await SqliteStore.open(path, clock=clock)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"from_the_future"}


async def test_backup_is_a_working_copy(store: SqliteStore, tmp_path: Path, clock: FakeClock) -> None:
    job, _ = await store.create_job(make_job("evt-1"))
    dest = tmp_path / "backup.sqlite3"
    await store.backup(dest)
    async with await SqliteStore.open(dest, clock=clock) as copy:
        assert (await copy.get_job(job.job_id)) == job
        assert await copy.audit() == []


# --- the group-commit writer path ---------------------------------------------------------------


def _bans(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {r[0] for r in raw.execute("SELECT user_id FROM bans")}


async def test_failing_body_loses_only_its_own_writes(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "db.sqlite3"

    async def write(user: str, *, fail: bool) -> None:
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO bans (scope_id, platform, user_id, created_at) VALUES ('g', 'd', ?, 0)",
                               (user,))
            if fail:
                raise RuntimeError("body failed after writing")

    async with await SqliteStore.open(path, clock=clock) as store:
        results = await asyncio.gather(*(write(f"u{i}", fail=i % 3 == 0) for i in range(12)),
                                       return_exceptions=True)
        assert [isinstance(r, RuntimeError) for r in results] == [i % 3 == 0 for i in range(12)]
        # Committed (visible to an unrelated connection) the moment each `async with` has exited.
        assert _bans(path) == {f"u{i}" for i in range(12) if i % 3}


async def test_writes_are_durable_when_the_call_returns(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "db.sqlite3"
    async with await SqliteStore.open(path, clock=clock) as store:
        await store.set_ban(scope_id="g", platform="d", user_id="x", banned=True)
        assert _bans(path) == {"x"}
    with pytest.raises(RuntimeError, match="closed"):
        async with store.transaction():
            pass


async def test_writes_queued_behind_a_close_fail_instead_of_hanging(tmp_path: Path, clock: FakeClock) -> None:
    store = await SqliteStore.open(tmp_path / "db.sqlite3", clock=clock)
    first = asyncio.create_task(store.set_ban(scope_id="g", platform="d", user_id="a", banned=True))
    await asyncio.sleep(0)  # queued before the close: it is finished, not dropped
    await store.close()
    await first
    with pytest.raises(RuntimeError, match="closed"):
        await store.set_ban(scope_id="g", platform="d", user_id="b", banned=True)
    assert _bans(tmp_path / "db.sqlite3") == {"a"}


async def test_concurrent_writers_share_commits(tmp_path: Path, clock: FakeClock) -> None:
    statements: list[str] = []
    async with await SqliteStore.open(tmp_path / "db.sqlite3", clock=clock) as store:
        await store._conn.set_trace_callback(statements.append)  # observe the SQL the writer really sends
        await asyncio.gather(*(store.create_job(make_job(f"evt-{i}")) for i in range(20)))
        await store._conn.set_trace_callback(None)
        assert await store.job_counts() == {"accepted": 20}
    commits = sum(s == "COMMIT" for s in statements)
    assert 1 <= commits < 20  # writers waiting together were committed together


async def test_quota_reads_never_see_half_a_capture(store: SqliteStore) -> None:
    """/quota is several queries; read in one snapshot, a capture can't make the charge vanish mid-read."""
    jobs = [(await store.create_job(make_job(f"evt-snap-{i}")))[0] for i in range(20)]
    seen: list[int] = []

    async def reader() -> None:
        for _ in range(200):
            q = await store.quota(platform="discord", user_id="u1", scope_id="g1")
            seen.append(q.used_today + q.held)

    async def capturer() -> None:
        for job in jobs:
            await store.finish_job(job.job_id, JobState.DELIVERED)

    await asyncio.gather(reader(), capturer())
    assert set(seen) == {20}, sorted(set(seen))


async def test_a_snapshot_held_open_does_not_hide_new_commits_from_other_reads(store: SqliteStore) -> None:
    """/quota's snapshot stays open across awaits; the engine's plain reads meanwhile must see the latest
    commit. They shared the snapshot's connection: a job accepted during a /quota read was "missing" to
    the engine, which then never started it."""
    inside, release = asyncio.Event(), asyncio.Event()

    async def quota_reader() -> None:
        async with store.snapshot() as conn:
            await conn.execute_fetchall("SELECT COUNT(*) FROM jobs")  # the read transaction starts here
            inside.set()
            await release.wait()

    task = asyncio.create_task(quota_reader())
    await inside.wait()
    job, _ = await store.create_job(make_job("evt-during-quota"))
    try:
        assert await store.get_job(job.job_id) == job
        assert [j.job_id for j in await store.unfinished_jobs()] == [job.job_id]
    finally:
        release.set()
        await task


async def test_a_seen_username_names_its_latest_owner_in_that_chat_only(store: SqliteStore) -> None:
    await store.remember_username(platform="telegram", chat_id="-1", username="Bob", user_id="11")
    assert await store.seen_username(platform="telegram", chat_id="-1", username="@bob") == "11"
    await store.remember_username(platform="telegram", chat_id="-1", username="bob", user_id="12")  # name moved
    assert await store.seen_username(platform="telegram", chat_id="-1", username="@BOB") == "12"
    assert await store.seen_username(platform="telegram", chat_id="-2", username="bob") is None
    assert await store.seen_username(platform="discord", chat_id="-1", username="bob") is None


async def test_history_pages_newest_first_straight_from_an_index(store: SqliteStore, clock: FakeClock) -> None:
    for i in range(25):
        job, _ = await store.create_job(make_job(f"evt-{i}", user="a"))
        await store.add_outputs(job.job_id, [f"/o/{i}-1.png", f"/o/{i}-2.png"])
        await store.create_job(make_job(f"other-{i}", user="b"))
        await clock.advance(1)
    pages = [await store.history(scope_id="g1", user_id="a", platform="discord", offset=o, limit=10)
             for o in (0, 10, 20, 30)]
    assert [[j.idem_key for j in page] for page in pages] == [
        [f"evt-{i}" for i in range(24, 14, -1)], [f"evt-{i}" for i in range(14, 4, -1)],
        [f"evt-{i}" for i in range(4, -1, -1)], []]
    assert pages[2][-1].outputs == ("/o/0-1.png", "/o/0-2.png")  # outputs read in one batch, in order
    plan = " ".join(str(row[-1]) for row in await store.fetch_all(
        "EXPLAIN QUERY PLAN SELECT job_id FROM jobs WHERE scope_id = ? AND user_id = ? AND platform = ? "
        "ORDER BY created_at DESC, job_id DESC LIMIT 11 OFFSET 20", ("g1", "a", "discord")))
    # the page is walked off the index: no sort of every job the person ever made
    assert "jobs_by_user_time" in plan and "TEMP B-TREE" not in plan, plan
