"""The delivery path's avoidable work, removed: outputs are fetched side by side, kept in hand (not read back from
disk) and passed through byte-identical when they are already fit for the platform; the gate scores them side
by side. Timing is tests/bench/delivery.py's business; these check the behaviour."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import random
import threading
from pathlib import Path

from aiohttp import web
from PIL import Image

from core.jobs.outputs import load_outputs
from core.moderation.gate import SIDE_BY_SIDE
from core.segmind.client import SegmindClient
from core.segmind.remote import RemoteRunner, RemoteStatus
from core.types import JobState
from tests.engine.conftest import Harness, engine_config, harness  # noqa: F401
from tests.fakes.clock import FakeClock
from tests.fakes.safety import MarkClassifier

WAIT_FOR_OTHERS = 5.0  # real seconds a fake storage request waits for the others before answering anyway


def _png(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (shade, 80, 80)).save(buf, format="PNG")
    return buf.getvalue()


async def _run(h: Harness, prompt: str, *, n: int) -> str:
    assert h.service is not None
    view = await h.service.submit(dataclasses.replace(h.request(n=n), prompt=prompt))
    await h.run_until_state(view.job_id, JobState.DELIVERED, JobState.WITHHELD, JobState.FAILED)
    return view.job_id


class SlowStorage:
    """Segmind's storage, holding each answer until `expected` requests are in flight (bounded): downloads made
    one after another never overlap, so `most` stays 1 and each waits out the bound."""

    def __init__(self, expected: int) -> None:
        self.expected, self.in_flight, self.most = expected, 0, 0
        self.all_in = asyncio.Event()

    async def file(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight >= self.expected:
            self.all_in.set()
        try:
            await asyncio.wait_for(self.all_in.wait(), WAIT_FOR_OTHERS)
        except TimeoutError:
            pass
        finally:
            self.in_flight -= 1
        return web.Response(body=_png(int(request.match_info["n"])), content_type="image/png")


async def test_a_jobs_outputs_are_downloaded_side_by_side_and_kept_in_order() -> None:
    count = 4  # a typical set; the bound on side-by-side downloads (DOWNLOAD_CONCURRENCY) is not below it
    storage = SlowStorage(count)
    app = web.Application()
    app.router.add_get("/files/{n}.png", storage.file)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        async with SegmindClient(api_key="k", api_url=base, upload_url=base, clock=FakeClock(),
                                 rng=random.Random(1)) as client:
            urls = tuple(f"{base}/files/{n}.png" for n in range(10, 10 + count))
            files = await asyncio.wait_for(RemoteRunner(client).fetch(RemoteStatus("COMPLETED", urls)), 30)
    finally:
        await runner.cleanup()
    assert storage.most == count  # all in flight at once
    assert [data for data, _ in files] == [_png(n) for n in range(10, 10 + count)]
    assert {mime for _, mime in files} == {"image/png"}


async def test_delivered_images_are_the_downloaded_bytes_as_stored(harness: Harness) -> None:  # noqa: F811
    """Delivered from the bytes in hand: the same images, names and types a read back from disk gives, unchanged."""
    await harness.start_engine()
    job_id = await _run(harness, "a lighthouse", n=3)
    job = await harness.store.get_job(job_id)
    assert job is not None and job.state == JobState.DELIVERED
    [(_, _, delivered)] = harness.messenger.delivered
    from_disk = await load_outputs(job)
    assert [(i.data, i.mime, i.filename, i.path) for i in delivered] == [
        (i.data, i.mime, i.filename, i.path) for i in from_disk]
    assert [i.data for i in delivered] == [Path(p).read_bytes() for p in job.outputs]
    assert len({i.data for i in delivered}) == 3


class MeetingClassifier(MarkClassifier):
    """Scores only when `parties` images are being scored at once: one after another, the first waits out the
    barrier, raises, and the gate counts it unreadable (the job is then held back)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=WAIT_FOR_OTHERS)

    def classify(self, data: bytes):  # type: ignore[no-untyped-def]
        self.barrier.wait()
        return super().classify(data)


async def test_the_gate_scores_a_sets_images_side_by_side(harness: Harness) -> None:  # noqa: F811
    assert SIDE_BY_SIDE == 2
    classifier = MeetingClassifier(2)  # two at a time: the four images meet in two pairs
    await harness.start_engine(classifier=classifier)
    job_id = await _run(harness, "four harmless knights", n=4)
    assert await harness.state(job_id) == JobState.DELIVERED
    assert classifier.seen == [0.01] * 4
