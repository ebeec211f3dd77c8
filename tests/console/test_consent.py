"""The console's way to confirm a face: the same line with --consent, also when saving from a job."""

from __future__ import annotations

import shutil

from bot.console import SAMPLE_CHARACTER


async def test_saving_a_raw_photo_jobs_result_needs_the_consent_line(console, tmp_path):
    shutil.copy(SAMPLE_CHARACTER, tmp_path / "face.png")
    await console.line("/imagine --image ./face.png on a beach")
    (job_id,) = [row[0] for row in await console.app.store.fetch_all("SELECT job_id FROM jobs")]

    asked = await console.line(f"/character save Tide --job {job_id}")
    assert f"/character save Tide --job {job_id} --consent" in asked
    assert await console.app.store.fetch_all("SELECT name FROM characters") == []

    saved = await console.line(f"/character save Tide --job {job_id} --consent")
    assert saved.strip().startswith("saved character Tide")
    rows = await console.app.store.fetch_all("SELECT name, consent_by, consent_how FROM characters")
    assert rows == [("Tide", "ada", "flag")]
