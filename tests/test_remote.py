"""RemoteRunner over the simulator: one code path for v2, workflow and v1 models."""

from __future__ import annotations

import base64

import pytest

from core.catalog import MODELS, Transport, build_payload
from core.errors import InvalidParameter
from core.segmind.errors import Failed, NotFound, Upstream
from core.segmind.remote import RemoteHandle, RemoteRunner, RemoteStatus
from core.types import ImageInput, ImageRole
from tests.fakes.simulator import drive, png

FACE = ImageInput(ImageRole.CHARACTER, png((10, 200, 10)))
SCENE_IMG = ImageInput(ImageRole.SCENE, png((10, 10, 200)))


@pytest.fixture
def runner(segmind_client) -> RemoteRunner:
    return RemoteRunner(segmind_client)


async def test_prepare_uploads_uri_slots(runner, simulator, segmind_client):
    model = MODELS["poses"]
    payload = await runner.prepare(model, build_payload(model, prompt="hi"), {ImageRole.CHARACTER: FACE})
    assert payload["subject"].startswith(simulator.url)
    assert (await segmind_client.download(payload["subject"]))[0] == FACE.data
    assert simulator.count("/upload-asset", "POST") == 1


async def test_prepare_inlines_base64_slots_without_uploading(runner, simulator):
    model = MODELS["pose"]
    pose = ImageInput(ImageRole.POSE, png((1, 1, 1)))
    payload = await runner.prepare(model, build_payload(model, prompt="p"),
                                   {ImageRole.CHARACTER: FACE, ImageRole.POSE: pose})
    assert base64.b64decode(payload["face_image"]) == FACE.data
    assert base64.b64decode(payload["pose_image"]) == pose.data
    assert not simulator.requests


async def test_missing_required_image_names_the_role(runner, simulator):
    model = MODELS["scene"]
    with pytest.raises(InvalidParameter) as caught:
        await runner.prepare(model, build_payload(model), {ImageRole.CHARACTER: FACE})
    assert caught.value.param == "scene" and "scene image" in str(caught.value)
    assert not simulator.requests  # nothing uploaded for a request that cannot run


async def test_optional_image_may_be_missing(runner):
    model = MODELS["illustration"]
    payload = await runner.prepare(model, build_payload(model, prompt="x"), {ImageRole.CHARACTER: FACE})
    assert "input_image" not in payload and payload["ip_image"]


async def test_v2_model_start_check_fetch(runner, simulator, fake_clock):
    model = MODELS["poses"]
    payload = await runner.prepare(model, build_payload(model, prompt="hi", flags={"n": 2}),
                                   {ImageRole.CHARACTER: FACE})
    started = await runner.start(model, payload)
    assert started.handle == RemoteHandle(Transport.V2, simulator.jobs[0].request_id)
    assert await runner.check(started.handle) == RemoteStatus("QUEUED")
    await fake_clock.advance(simulator.jobs[0].completed_at - fake_clock.now() + 0.1)
    status = await runner.check(started.handle)
    assert status.done and len(status.output_urls) == 2
    images = await runner.fetch(status)
    assert [mime for _, mime in images] == ["image/webp", "image/webp"]


async def test_workflow_model_runs_through_the_same_calls(runner, simulator, fake_clock):
    model = MODELS["scene"]
    payload = await runner.prepare(model, build_payload(model),
                                   {ImageRole.CHARACTER: FACE, ImageRole.SCENE: SCENE_IMG})
    started = await runner.start(model, payload)
    assert started.handle is not None and started.handle.transport is Transport.WORKFLOW
    await fake_clock.advance(3000)
    status = await runner.check(started.handle)
    assert status.done
    (data, mime), = await runner.fetch(status)
    assert mime == "image/png" and data.startswith(b"\x89PNG")


async def test_v1_model_returns_images_at_start(runner, fake_clock):
    model = MODELS["sheet"]
    payload = await runner.prepare(model, build_payload(model, prompt="sheet"), {ImageRole.CHARACTER: FACE})
    started = await drive(fake_clock, runner.start(model, payload), step=5)
    assert started.handle is None
    assert len(started.images) == 1 and started.images[0][1] == "image/jpeg"


async def test_check_makes_exactly_one_status_request_and_raises_typed_errors(runner, simulator, fake_clock):
    simulator.config.failure_rate = 1.0
    started = await runner.start(MODELS["poses"], {"prompt": "x"})
    simulator.fail_next(503)
    with pytest.raises(Upstream) as caught:
        await runner.check(started.handle)
    assert caught.value.status == 503
    assert simulator.count("/status") == 1
    await fake_clock.advance(3000)
    with pytest.raises(Failed):
        await runner.check(started.handle)
    simulator.expire(started.handle.ref)
    with pytest.raises(NotFound):
        await runner.check(started.handle)
