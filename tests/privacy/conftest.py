"""The console world (real app, virtual time) for the privacy tests, with two distinct photos on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from bot.console import SAMPLE_CHARACTER
from tests.console.conftest import console  # noqa: F401  (the fixture, shared)


def photos(tmp_path: Path) -> tuple[str, str]:
    """Two different photos: `a.png` (the sample) and `b.png` (the sample mirrored)."""
    shutil.copy(SAMPLE_CHARACTER, tmp_path / "a.png")
    with Image.open(SAMPLE_CHARACTER) as image:
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "b.png")
    return "./a.png", "./b.png"


async def job_row(app, job_id: str) -> dict:
    row = await app.store.fetch_one(
        "SELECT prompt, payload, inputs, user_id, user_name, reply_ref, state FROM jobs WHERE job_id = ?", (job_id,))
    keys = ("prompt", "payload", "inputs", "user_id", "user_name", "reply_ref", "state")
    out = dict(zip(keys, row, strict=True))
    out["inputs"] = json.loads(out["inputs"])
    return out
