"""CASTBOT_RETENTION_DAYS: finished jobs older than it lose prompt and files; newer and unfinished ones keep them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.jobs.outputs import output_folder
from core.retention import DAY
from core.store.sqlite import NewJob
from tests.privacy.conftest import job_row, photos

pytestmark = pytest.mark.timeout(120)


async def _generate(console, line: str) -> str:
    await console.line(line)
    job = console.session.last_job
    assert job is not None and job.state == "delivered", job
    return job.job_id


async def test_old_prompts_inputs_and_outputs_go_new_and_unfinished_stay(console, tmp_path: Path) -> None:
    a, b = photos(tmp_path)
    app = console.app
    await app.retention.stop()  # this test runs the pass itself; the next one watches the task
    old_a = await _generate(console, f"/imagine --image {a} a secret old prompt")
    old_b = await _generate(console, f"/imagine --image {b} another old prompt")
    stuck, _ = await app.store.create_job(NewJob(
        idem_key="stuck", platform="console", user_id="ada", user_name="ada", scope_id="dm:ada", chat_id="dm:ada",
        model="flux-schnell", prompt="still waiting", payload={"prompt": "still waiting"}, inputs={}, cost=1,
        reply_ref="r", character_id=None, seed=None, is_admin=False))
    await console.clock.advance(20 * DAY)
    new_b = await _generate(console, f"/imagine --image {b} a fresh prompt")
    before = {j: await job_row(app, j) for j in (old_a, old_b, new_b)}
    input_a, input_b = (Path(*before[j]["inputs"].values()) for j in (old_a, new_b))
    assert list(before[old_b]["inputs"].values()) == [str(input_b)]  # the same photo shares one file
    assert input_a.exists() and input_b.exists()
    await console.clock.advance(15 * DAY)  # old jobs are 35 days old, the new one 15, retention 30

    jobs, files = await app.retention.prune_once()

    assert jobs == 2
    for job_id in (old_a, old_b):
        row = await job_row(app, job_id)
        assert (row["prompt"], row["payload"], row["inputs"], row["reply_ref"]) == ("", "{}", {}, "")
        assert row["state"] == "delivered" and row["user_id"] == "ada"  # the ledger's row stays
        assert not output_folder(app.settings.data_dir, job_id).exists()
        ledger = await app.store.fetch_all("SELECT kind FROM ledger WHERE job_id = ?", (job_id,))
        assert {k for (k,) in ledger} >= {"hold", "capture"}
    assert not input_a.exists()
    assert input_b.exists()  # still named by the fresh job
    assert files >= 2 + 1  # the old jobs' output images and photo a
    fresh = await job_row(app, new_b)
    assert fresh["prompt"] == "a fresh prompt" and fresh["inputs"] == before[new_b]["inputs"]
    assert any(output_folder(app.settings.data_dir, new_b).iterdir())
    waiting = await job_row(app, stuck.job_id)
    assert waiting["prompt"] == "still waiting" and waiting["state"] == "accepted"
    assert await app.retention.prune_once() == (0, 0)  # a pass is idempotent


async def test_the_background_task_prunes_on_the_clock(console, tmp_path: Path) -> None:
    a, _ = photos(tmp_path)
    app = console.app
    old = await _generate(console, f"/imagine --image {a} prompt to forget")
    await console.clock.advance(31 * DAY)  # the hourly pass wakes on virtual time
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while (await job_row(app, old))["prompt"] and loop.time() < deadline:
        await console.clock.advance(3_600)
        await asyncio.sleep(0.01)
    assert (await job_row(app, old))["prompt"] == ""
    assert not output_folder(app.settings.data_dir, old).exists()
