"""Contract: the official `segmind` SDK, a faithful client of the real service, works against the simulator.

If the SDK can run a v2 job, a sync call, a workflow and an upload here, the simulator speaks Segmind's
protocol; the same scenarios then run through castbot's own client. The SDK is synchronous, so it runs
in a worker thread while the simulator serves on this test's event loop (real clock, fast speed).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import segmind
from segmind.files import Files
from segmind.pixelflows import PixelFlows
from segmind.v2 import InferenceFailed

from core.catalog import MODELS, build_payload
from core.segmind.client import SegmindClient
from core.segmind.errors import AuthError, Failed
from core.segmind.remote import RemoteRunner
from core.simulator.server import SimConfig, Simulator
from core.types import ImageInput, ImageRole
from tests.fakes.simulator import png

SCENE = MODELS["scene"].slug
POLL = 0.02  # seconds between SDK polls; simulated jobs take ~0.1 s at this speed
DEADLINE = 30.0


@pytest.fixture
async def live_sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    """A simulator on the real clock, with the SDK's workflow and storage hosts pointed at it."""
    async with Simulator(SimConfig(speed=600, credits=1000)) as sim:
        monkeypatch.setattr(PixelFlows, "workflows_base", f"{sim.url}/workflows")
        monkeypatch.setattr(Files, "STORAGE_BASE_URL", sim.url)
        yield sim


def _sdk(sim: Simulator, key: str = "sim-key") -> segmind.SegmindClient:
    return segmind.SegmindClient(api_key=key, base_url=f"{sim.url}/v1")


async def test_sdk_upload_then_v2_job_to_completion(live_sim: Simulator, tmp_path: Path):
    face = tmp_path / "face.png"
    face.write_bytes(png())
    sdk = _sdk(live_sim)
    uploaded = await asyncio.to_thread(sdk.files.upload, face)
    subject = uploaded["file_urls"][0]

    def run_job() -> dict:
        job = sdk.submit_async("consistent-character", subject=subject, prompt="a knight", seed=3,
                               number_of_outputs=2)
        return job.wait(timeout=DEADLINE, interval=POLL)

    result = await asyncio.to_thread(run_job)
    assert result["status"] == "COMPLETED" and len(result["output"]) == 2
    assert result["metrics"]["inference_time"] > 0
    assert live_sim.job(result["request_id"]).outputs  # the job the SDK saw is the one we ran
    assert live_sim.count("/status") >= 1 and live_sim.count("/v2/requests/", "GET") > live_sim.count("/status")


async def test_sdk_sees_failed_as_inference_failed_with_detail(live_sim: Simulator):
    live_sim.config.failure_rate = 1.0
    sdk = _sdk(live_sim)

    def run_job() -> None:
        sdk.submit_async("consistent-character", prompt="x").wait(timeout=DEADLINE, interval=POLL)

    with pytest.raises(InferenceFailed) as caught:
        await asyncio.to_thread(run_job)
    assert caught.value.detail == live_sim.jobs[0].failure


async def test_sdk_sync_call_returns_image_bytes_and_credits(live_sim: Simulator):
    face = base64.b64encode(png()).decode()
    sdk = _sdk(live_sim)
    response = await asyncio.to_thread(
        sdk.run_sync, "consistent-character-with-pose", face_image=face, pose_image=face, prompt="p"
    )
    assert response.content.startswith(b"\x89PNG")
    assert float(response.headers["x-remaining-credits"]) == 999


async def test_sdk_workflow_runs_and_parses_the_json_string_output(live_sim: Simulator):
    sdk = _sdk(live_sim)
    result = await asyncio.to_thread(
        sdk.pixelflows.run, workflow_id=SCENE, data={"Prompt": "on a bench"}, poll_interval=POLL,
        max_wait_time=DEADLINE,
    )
    assert result["status"] == "COMPLETED"
    assert result["output"]["image"].startswith(live_sim.url)  # the SDK parsed the JSON string


async def test_sdk_wrong_key_gets_401(live_sim: Simulator):
    with pytest.raises(segmind.SegmindError) as caught:
        await asyncio.to_thread(_sdk(live_sim, key="wrong").run_sync, "consistent-character-with-pose")
    assert caught.value.status == 401


# --- the same scenarios through castbot's client ----------------------------------------------------


@pytest.fixture
async def castbot_client(live_sim: Simulator) -> AsyncIterator[SegmindClient]:
    async with SegmindClient(api_key="sim-key", api_url=live_sim.url, upload_url=live_sim.url) as client:
        yield client


async def _until_done(runner: RemoteRunner, handle) -> list[tuple[bytes, str]]:
    for _ in range(int(DEADLINE / POLL)):  # bounded in count and (real) time
        status = await runner.check(handle)
        if status.done:
            return await runner.fetch(status)
        await asyncio.sleep(POLL)
    raise AssertionError("job did not complete")


async def test_castbot_upload_then_v2_job(castbot_client: SegmindClient):
    runner = RemoteRunner(castbot_client)
    model = MODELS["poses"]
    payload = await runner.prepare(model, build_payload(model, prompt="a knight", flags={"n": 2}),
                                   {ImageRole.CHARACTER: ImageInput(ImageRole.CHARACTER, png())})
    started = await runner.start(model, payload)
    images = await _until_done(runner, started.handle)
    assert len(images) == 2 and all(mime == "image/webp" for _, mime in images)


async def test_castbot_sees_failed(live_sim: Simulator, castbot_client: SegmindClient):
    live_sim.config.failure_rate = 1.0
    runner = RemoteRunner(castbot_client)
    started = await runner.start(MODELS["poses"], {"prompt": "x"})
    with pytest.raises(Failed) as caught:
        await _until_done(runner, started.handle)
    assert caught.value.detail == live_sim.jobs[0].failure


async def test_castbot_sync_call(castbot_client: SegmindClient):
    face = base64.b64encode(png()).decode()
    result = await castbot_client.call_v1("consistent-character-with-pose",
                                          {"face_image": face, "pose_image": face, "prompt": "p"})
    assert result.images[0].startswith(b"\x89PNG") and result.remaining_credits == 999


async def test_castbot_workflow(castbot_client: SegmindClient):
    runner = RemoteRunner(castbot_client)
    started = await runner.start(MODELS["scene"], {"Prompt": "on a bench"})
    ((data, mime),) = await _until_done(runner, started.handle)
    assert mime == "image/png" and data.startswith(b"\x89PNG")


async def test_castbot_wrong_key(live_sim: Simulator):
    async with SegmindClient(api_key="wrong", api_url=live_sim.url, upload_url=live_sim.url) as client:
        with pytest.raises(AuthError):
            await client.call_v1("consistent-character-with-pose", {})
