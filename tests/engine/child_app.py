"""A castbot process for crash tests: runs the real app, records deliveries to a file.

Usage: python -m tests.engine.child_app DATA_DIR DELIVERIES_FILE [submit]
Settings (Segmind URL and key) come from the environment, as in production.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app import build_app
from bot.settings import Settings
from core.types import Actor, ImageInput, ImageRole, JobView, OutputImage, Place, Request

ASSETS = Path(__file__).resolve().parents[2] / "bot" / "assets"


class FileMessenger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.delivered = asyncio.Event()

    async def show(self, reply_ref: str, view: JobView) -> None:
        return None

    async def deliver(self, reply_ref: str, view: JobView, images: Sequence[OutputImage]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps({"ref": reply_ref, "job": view.job_id, "images": len(images)}) + "\n")
        self.delivered.set()


async def main(data_dir: str, deliveries: str, submit: bool) -> None:
    settings = Settings(CASTBOT_DATA_DIR=data_dir)
    async with build_app(settings) as app:
        messenger = FileMessenger(Path(deliveries))
        app.service.register_messenger("console", messenger)
        if submit:
            image = (ASSETS / "sample_character.png").read_bytes()
            request = Request(
                actor=Actor("console", "crash-tester"), place=Place("console", "dm:crash", "chat"),
                model="poses", prompt="in the rain", images=(ImageInput(ImageRole.CHARACTER, image),),
                params={"n": "2"}, idem_key="console:crash-1", reply_ref="crash-ref",
            )
            view = await app.service.submit(request)
            print(f"job {view.job_id}", flush=True)
        # bounded: the parent kills this process, or it exits once the job is delivered
        await asyncio.wait_for(messenger.delivered.wait(), timeout=60)
        await asyncio.sleep(0.2)  # let the engine record the delivery before the app closes


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "submit"))
