"""The console world (real app, virtual time) for the privacy tests, with two distinct photos on disk."""

from __future__ import annotations

import json
import shutil
import sqlite3
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


def walk_data(data_dir: Path, needles: tuple[str, ...]) -> list[str]:
    """Every file name, and every row of every table, that contains one of `needles`."""
    found = [str(p) for p in data_dir.rglob("*") if any(n in p.name for n in needles)]
    db = sqlite3.connect(data_dir / "castbot.sqlite3")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):
                text = " ".join(v for v in row if isinstance(v, str))  # times are floats: no false hits
                if any(n in text for n in needles):
                    found.append(f"{table}: {row}")
    finally:
        db.close()
    return found
