"""Plays the script through one Runner and compares outcomes read from the store (never message wording)."""

from __future__ import annotations

import asyncio
import dataclasses

from core.catalog import Transport
from core.store.sqlite import SqliteStore
from tests.conformance.script import SCRIPT, Expect, Observed, Runner, Settle, Step, Wait
from tests.fakes.clock import FakeClock

TICK = 0.5  # virtual seconds per step while time passes, each followed by a real turn for loopback I/O

# Wrong expectations about a job, a refusal, a character and a ban: each runner must report each of them.
MISJUDGED: tuple[Step | Settle, ...] = (
    Step("owner", "/imagine on a beach", expect=Expect(job=True, units=1)),
    Step("owner", "/character save Luna --consent", images=((None, "character"),),
         expect=Expect(characters={"Luna": False}, refusal="not_allowed")),
    Step("admin", "/admin ban", target="other", expect=Expect(banned={"other": False})),
)
MISJUDGED_PROBLEMS = [
    "refusal 'missing_image', expected None",
    "job created: False, expected True",
    "units moved by 0, expected 1",
    "refusal None, expected 'not_allowed'",
    "character Luna exists: True, expected False",
    "other banned: True, expected False",
]


async def pass_time(clock: FakeClock, seconds: float) -> None:
    """Let `seconds` of virtual time pass in ticks, giving the fake servers a real turn after each."""
    for _ in range(round(seconds / TICK)):
        await clock.advance(TICK)
        await asyncio.sleep(0.003)


async def play(runner: Runner, store: SqliteStore, script: tuple[Step | Settle | Wait, ...] = SCRIPT) -> list[str]:
    """Run every step; return one line per mismatch (empty: the platform conforms)."""
    labels: dict[str, str] = {}
    problems: list[str] = []
    for number, step in enumerate(script, start=1):
        if isinstance(step, Settle):
            await runner.settle()
            continue
        if isinstance(step, Wait):
            await runner.wait(step.seconds)
            continue
        if step.job is not None:
            assert step.command is not None
            step = dataclasses.replace(step, command=dataclasses.replace(step.command, job_id=labels[step.job]))
        jobs = await _job_ids(store, runner.scope_id)
        units = await _units(store, runner, step.role)
        events = await _events(store, runner.scope_id)
        observed = await runner.run(step)
        created = await _job_ids(store, runner.scope_id) - jobs
        if step.label and created:
            labels[step.label] = next(iter(created))
        found = await _compare(store, runner, step, observed, bool(created),
                               await _units(store, runner, step.role) - units)
        found += await _compare_audit(store, runner, step, observed, events)
        problems += [f"step {number} {step.role} {step.text or step.command!r}: {p}" for p in found]
    if script and isinstance(script[-1], Settle):
        problems += await _segmind_calls(store, runner)
    return problems


async def _segmind_calls(store: SqliteStore, runner: Runner) -> list[str]:
    """Every job Segmind (the simulator) saw belongs to a job in the store: a refused step called Segmind for
    nothing. A queued job is known by its request id; a synchronous (v1) call keeps none, so those are counted."""
    if runner.simulator is None:
        return []
    rows = await store.fetch_all("SELECT remote_ref FROM jobs WHERE submitted_at IS NOT NULL")
    refs = " ".join(ref for (ref,) in rows if ref)
    queued = [job for job in runner.simulator.jobs if job.transport != Transport.V1]
    unknown = [job.request_id for job in queued if job.request_id not in refs]
    sync = len(runner.simulator.jobs) - len(queued)
    problems = [f"Segmind saw queued job(s) no stored job made: {unknown}"] if unknown else []
    if sync != sum(1 for (ref,) in rows if not ref):
        problems.append(f"Segmind saw {sync} synchronous call(s); the store made {sum(1 for (r,) in rows if not r)}")
    return problems


async def _compare_audit(store: SqliteStore, runner: Runner, step: Step, observed: Observed,
                         before: dict[str, int]) -> list[str]:
    """The moderation log's new rows, what /admin log showed against the store, and a removal's traces."""
    want, found = step.expect, []
    after = await _events(store, runner.scope_id)
    for kind, added in want.events.items():
        if after.get(kind, 0) - before.get(kind, 0) != added:
            found.append(f"{after.get(kind, 0) - before.get(kind, 0)} {kind} event(s), expected {added}")
    if want.log is not None:
        user = runner.user_id(step.target) if step.target else None
        rows = await store.fetch_all(
            "SELECT job_id, user_id, prompt FROM jobs WHERE scope_id = ? AND (? IS NULL OR user_id = ?) "
            "ORDER BY created_at DESC, job_id DESC", (runner.scope_id, user, user))
        newest = [tuple(r) for r in rows][:len(observed.log)]
        if len(observed.log) < want.log or list(observed.log) != newest:
            found.append(f"log showed {observed.log}, expected the newest {want.log}+ of {newest}")
    if want.removed and step.command is not None:
        job_id = step.command.job_id  # type: ignore[union-attr]
        outputs = await store.fetch_all("SELECT path FROM job_outputs WHERE job_id = ?", (job_id,))
        folder = store.data_dir / "outputs" / job_id
        if outputs or (folder.exists() and any(folder.iterdir())) or await runner.result_shown(job_id):
            found.append(f"job {job_id} not removed: rows {len(outputs)}, folder {folder.exists()}")
    return found


async def _events(store: SqliteStore, scope_id: str) -> dict[str, int]:
    rows = await store.fetch_all("SELECT kind, COUNT(*) FROM mod_events WHERE scope_id = ? GROUP BY kind",
                                 (scope_id,))
    return {kind: int(count) for kind, count in rows}


async def _compare(store: SqliteStore, runner: Runner, step: Step, observed: Observed, created: bool,
                   units: int) -> list[str]:
    want = step.expect
    found: list[str] = []
    if observed.refusal != want.refusal:
        found.append(f"refusal {observed.refusal!r}, expected {want.refusal!r}")
    if want.answer is not None and observed.answer != want.answer:
        found.append(f"answer {observed.answer!r}, expected {want.answer!r}")
    if created != want.job:
        found.append(f"job created: {created}, expected {want.job}")
    if units != want.units:
        found.append(f"units moved by {units}, expected {want.units}")
    names = {row[0] for row in await store.fetch_all("SELECT name FROM characters WHERE scope_id = ?",
                                                      (runner.scope_id,))}
    for name, exists in want.characters.items():
        if (name in names) != exists:
            found.append(f"character {name} exists: {name in names}, expected {exists}")
    for role, banned in want.banned.items():
        quota = await store.quota(platform=runner.platform, user_id=runner.user_id(role), scope_id=runner.scope_id,
                                  is_admin=False)
        if quota.banned != banned:
            found.append(f"{role} banned: {quota.banned}, expected {banned}")
    if want.daily is not None and (daily := (await store.policy(runner.scope_id)).daily_units) != want.daily:
        found.append(f"daily allowance {daily}, expected {want.daily}")
    return found


async def _job_ids(store: SqliteStore, scope_id: str) -> set[str]:
    return {row[0] for row in await store.fetch_all("SELECT job_id FROM jobs WHERE scope_id = ?", (scope_id,))}


async def _units(store: SqliteStore, runner: Runner, role: str) -> int:
    quota = await store.quota(platform=runner.platform, user_id=runner.user_id(role), scope_id=runner.scope_id,
                              is_admin=role == "admin")
    return quota.used_today + quota.held
