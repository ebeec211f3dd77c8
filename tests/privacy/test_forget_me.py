"""/forget-me through the console: asks first, then leaves no file and no row naming the person."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.privacy import QUOTA_MEMORY
from tests.privacy.conftest import photos, walk_data

pytestmark = pytest.mark.timeout(120)

SECRETS = ("ada", "a secret prompt about ada", "Lovelace", "silver-haired countess")


def _files(data_dir: Path, folder: str) -> set[str]:
    root = data_dir / folder
    return {os.path.relpath(p, root) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def test_forget_me_asks_then_removes_everything_of_that_person(console, tmp_path: Path) -> None:
    a, b = photos(tmp_path)
    app, data = console.app, console.app.settings.data_dir
    assert (await console.line(f"/character save Lovelace {a} --consent silver-haired countess")).startswith("saved")
    await console.line(f"/imagine --image {b} a secret prompt about ada")
    await console.line("/imagine --char Lovelace a secret prompt about ada at sea")
    assert _files(data, "characters") and _files(data, "inputs") and _files(data, "outputs")
    assert walk_data(data, SECRETS)  # the walk does find the person before

    preview = await console.line("/forget-me")
    assert "1 saved character(s)" in preview and "2 job(s)" in preview and "--confirm" in preview
    assert walk_data(data, ("Lovelace",)) and _files(data, "outputs")  # asking removed nothing

    quota_before = await console.line("/quota")
    done = await console.line("/forget-me --confirm")

    assert done.startswith("Forgotten. Removed 1 character(s), the prompts and images of 2 job(s)"), done
    assert _files(data, "characters") == _files(data, "inputs") == _files(data, "outputs") == set()
    assert "no jobs yet" in await console.line("/history")
    # Today's charges still count: forgetting is no way to refill the daily allowance ...
    assert await console.line("/quota") == quota_before
    kept = walk_data(data, SECRETS)
    assert kept and all(hit.startswith("ledger: ") for hit in kept), kept  # ... and they are all that names her
    # ... until the quota window is long past: then the retention pass retags them too.
    await console.clock.advance(QUOTA_MEMORY + 60)
    await app.retention.prune_once()
    assert walk_data(data, SECRETS) == []
    ledger = await app.store.fetch_all("SELECT DISTINCT user_id, scope_id FROM ledger")
    assert ledger and all(u.startswith("forgotten:") and s.startswith("dm:forgotten:") for u, s in ledger)
    assert await app.store.ledger_totals()  # the ledger still adds up


async def test_forget_me_waits_for_a_running_job(console, tmp_path: Path) -> None:
    from core.store.sqlite import NewJob

    await console.app.store.create_job(NewJob(
        idem_key="running", platform="console", user_id="ada", user_name="ada", scope_id="dm:ada",
        chat_id="dm:ada", model="flux-schnell", prompt="p", payload={"prompt": "p"}, inputs={}, cost=1,
        reply_ref="r", character_id=None, seed=None, is_admin=False))
    out = await console.line("/forget-me --confirm")
    assert out.startswith("error: 1 of your jobs is still running"), out
    assert (await console.app.store.fetch_one("SELECT prompt FROM jobs WHERE idem_key = 'running'"))[0] == "p"
