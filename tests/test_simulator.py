"""The simulator itself: timing, determinism, pictures, auth and fault knobs, seen over plain HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import statistics
import time

import httpx
import pytest

from core.simulator.art import ArtSpec, draw
from core.simulator.server import SimConfig, Simulator
from tests.fakes.clock import FakeClock
from tests.fakes.simulator import png

KEY = {"x-api-key": "sim-key"}
SCENE = "6865fd064727e611dfa21d4f-v5"


def _durations(config: SimConfig, n: int) -> list[float]:
    sim = Simulator(config, clock=FakeClock())
    return [sim.duration() for _ in range(n)]


def test_durations_are_log_normal_with_the_configured_median_and_cv():
    values = _durations(SimConfig(seed=3), 4000)
    assert statistics.median(values) == pytest.approx(60.0, rel=0.03)
    logs = [math.log(v) for v in values]
    assert statistics.pstdev(logs) == pytest.approx(math.sqrt(math.log1p(0.2**2)), rel=0.05)


def test_speed_divides_durations_and_the_seed_makes_them_repeatable():
    slow = _durations(SimConfig(seed=1), 50)
    fast = _durations(SimConfig(seed=1, speed=20), 50)
    assert fast == pytest.approx([v / 20 for v in slow])
    assert _durations(SimConfig(seed=1), 50) == slow
    assert _durations(SimConfig(seed=2), 50) != slow


def test_art_depends_on_seed_inputs_and_format():
    base = ArtSpec((png(),), "a knight", 1, 0, "png")
    assert draw(base) == draw(ArtSpec((png(),), "a knight", 1, 0, "png"))
    assert draw(base) != draw(ArtSpec((png(),), "a knight", 2, 0, "png"))
    assert draw(base) != draw(ArtSpec((png((0, 0, 255)),), "a knight", 1, 0, "png"))
    assert draw(ArtSpec((), "x", 1, 0, "webp"))[8:12] == b"WEBP"
    assert draw(ArtSpec((), "x", 1, 0, "jpg")).startswith(b"\xff\xd8\xff")


async def _run_v2(http: httpx.AsyncClient, sim: Simulator, clock: FakeClock, payload: dict) -> list[str]:
    resp = await http.post(f"{sim.url}/v2/consistent-character", json=payload, headers=KEY)
    body = resp.json()
    assert body["status_url"].startswith("http://") and body["response_url"].startswith("http://")
    await clock.advance(sim.job(body["request_id"]).completed_at - clock.now() + 0.1)
    result = (await http.get(body["response_url"], headers=KEY)).json()
    output = result["output"]
    return [output] if isinstance(output, str) else output


async def test_same_seed_same_images_different_seed_different(simulator, fake_clock):
    async with httpx.AsyncClient() as http:
        up = await http.post(f"{simulator.url}/upload-asset", headers=KEY,
                             json={"data_urls": ["data:image/png;base64," + base64.b64encode(png()).decode()]})
        subject = up.json()["file_urls"][0]
        payload = {"subject": subject, "prompt": "a knight", "seed": 11, "number_of_outputs": 3,
                   "output_format": "webp"}
        first = await _run_v2(http, simulator, fake_clock, payload)
        again = await _run_v2(http, simulator, fake_clock, payload)
        other = await _run_v2(http, simulator, fake_clock, {**payload, "seed": 12})
        get = [(await http.get(url)).content for url in (first[0], again[0], other[0], first[1])]
    assert len(first) == 3 and all(url.endswith(".webp") for url in first)
    assert get[0] == get[1] and get[0] != get[2] and get[0] != get[3]
    assert get[0][8:12] == b"WEBP"


async def test_states_follow_the_clock_and_requests_are_recorded(simulator, fake_clock):
    async with httpx.AsyncClient() as http:
        body = (await http.post(f"{simulator.url}/v2/consistent-character", json={}, headers=KEY)).json()
        job = simulator.job(body["request_id"])
        states = []
        for moment in (job.submitted_at, job.started_at + 0.01, job.completed_at + 0.01):
            await fake_clock.advance(max(0.0, moment - fake_clock.now()))
            states.append((await http.get(body["status_url"], headers=KEY)).json()["status"])
    assert states == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert job.submitted_at < job.started_at < job.completed_at
    assert [r.status for r in simulator.requests] == [200, 200, 200, 200]
    assert simulator.count("/status") == 3


async def test_failed_is_422_with_an_error_and_workflow_failed_is_a_200_body(simulator, fake_clock):
    simulator.config.failure_rate = 1.0
    async with httpx.AsyncClient() as http:
        v2 = (await http.post(f"{simulator.url}/v2/consistent-character", json={}, headers=KEY)).json()
        wf = (await http.post(f"{simulator.url}/workflows/{SCENE}", json={}, headers=KEY)).json()
        await fake_clock.advance(3600)
        status = await http.get(v2["status_url"], headers=KEY)
        poll = await http.get(wf["poll_url"], headers={"Authorization": "Bearer sim-key"})
    assert status.status_code == 422 and status.json()["status"] == "FAILED" and status.json()["error"]
    assert poll.status_code == 200 and poll.json()["status"] == "FAILED" and poll.json()["error"]


async def test_workflow_output_is_a_json_string_and_bearer_auth_works(simulator, fake_clock):
    bearer = {"Authorization": "Bearer sim-key"}
    async with httpx.AsyncClient() as http:
        wf = (await http.post(f"{simulator.url}/workflows/{SCENE}", json={"Prompt": "x"}, headers=bearer)).json()
        await fake_clock.advance(3600)
        body = (await http.get(wf["poll_url"], headers=bearer)).json()
    assert body["status"] == "COMPLETED" and isinstance(body["output"], str)
    assert json.loads(body["output"])["image"].startswith(simulator.url)


async def test_wrong_key_429_406_400_and_unknown_model(simulator):
    async with httpx.AsyncClient() as http:
        wrong = await http.post(f"{simulator.url}/v2/consistent-character", json={}, headers={"x-api-key": "no"})
        unknown = await http.post(f"{simulator.url}/v2/not-a-model", json={}, headers=KEY)
        bad = await http.post(f"{simulator.url}/v2/consistent-character", json={"output_quality": 101},
                              headers=KEY)
        simulator.config.credits = 0
        broke = await http.post(f"{simulator.url}/v2/consistent-character", json={}, headers=KEY)
        simulator.config.rate_limit_rate = 1.0
        limited = await http.get(f"{simulator.url}/v2/requests/x/status", headers=KEY)
        not_json = await http.post(f"{simulator.url}/upload-asset", content=b"{", headers=KEY)
    assert wrong.status_code == 401 and unknown.status_code == 404 and bad.status_code == 400
    assert "output_quality" in bad.json()["error"]
    assert broke.status_code == 406
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert not_json.status_code == 429  # the 429 knob comes before everything else


async def test_fail_next_answers_the_next_requests_then_stops(simulator):
    simulator.fail_next(503, count=2)
    async with httpx.AsyncClient() as http:
        codes = [(await http.get(f"{simulator.url}/v2/requests/x/status", headers=KEY)).status_code
                 for _ in range(3)]
    assert codes == [503, 503, 404]


async def test_v1_blocks_for_the_job_duration_on_the_injected_clock(simulator, fake_clock):
    face = base64.b64encode(png()).decode()
    payload = {"image": face, "prompt": "sheet"}
    async with httpx.AsyncClient() as http:
        call = asyncio.ensure_future(
            http.post(f"{simulator.url}/v1/consistent-character-ai-neolemon", json=payload, headers=KEY))
        await fake_clock.run_until(lambda: bool(simulator.jobs), step=0.0001, max_seconds=1)
        assert not call.done()
        await fake_clock.run_until(call.done, step=5)
        resp = call.result()
    assert resp.headers["content-type"] == "image/jpeg" and resp.content.startswith(b"\xff\xd8")
    assert fake_clock.now() >= simulator.jobs[0].completed_at


async def test_hundreds_of_concurrent_jobs_are_cheap(fake_clock):
    config = SimConfig(speed=1000)
    started = time.perf_counter()
    # Generous client timeouts: the 2-core machine may be busy; the bound below is the real check.
    async with Simulator(config, clock=fake_clock) as sim, httpx.AsyncClient(timeout=60) as http:
        async def one(i: int) -> str:
            resp = await http.post(f"{sim.url}/v2/consistent-character", json={"seed": i % 5}, headers=KEY)
            return resp.json()["request_id"]

        ids = await asyncio.gather(*(one(i) for i in range(300)))
        await fake_clock.advance(10)
        states = {(await http.get(f"{sim.url}/v2/requests/{rid}/status", headers=KEY)).json()["status"]
                  for rid in ids[:50]}
    assert states == {"COMPLETED"} and len(sim.jobs) == 300
    assert time.perf_counter() - started < 40


async def test_outputs_expire_with_their_job_and_latency_delays_answers(simulator, fake_clock):
    async with httpx.AsyncClient() as http:
        body = (await http.post(f"{simulator.url}/v2/consistent-character", json={}, headers=KEY)).json()
        await fake_clock.advance(simulator.job(body["request_id"]).completed_at - fake_clock.now() + 1)
        url = (await http.get(body["response_url"], headers=KEY)).json()["output"]
        assert (await http.get(url)).status_code == 200
        await fake_clock.advance(3600)
        assert (await http.get(url)).status_code == 404
        simulator.config.latency = 0.05
        started = time.perf_counter()
        await http.get(f"{simulator.url}/v2/requests/x/status", headers=KEY)
    assert time.perf_counter() - started >= 0.05


async def test_old_jobs_and_uploads_are_forgotten_so_memory_stays_bounded(fake_clock):
    async with Simulator(SimConfig(history_limit=50), clock=fake_clock) as sim, httpx.AsyncClient() as http:
        up = await http.post(f"{sim.url}/upload-asset", headers=KEY,
                             json={"data_urls": ["data:image/png;base64," + base64.b64encode(png()).decode()]})
        first = (await http.post(f"{sim.url}/v2/consistent-character", json={}, headers=KEY)).json()
        await fake_clock.advance(2 * 86_400)
        for _ in range(255):  # the 256th job triggers a sweep
            await http.post(f"{sim.url}/v2/consistent-character", json={}, headers=KEY)
        gone = await http.get(first["status_url"], headers=KEY)
        upload_gone = await http.get(up.json()["file_urls"][0])
    assert gone.status_code == 404 and upload_gone.status_code == 404
    assert len(sim.jobs) == 255 and len(sim.requests) == 50
