"""castbot's Segmind client against the simulator: every fault maps to the right typed error or retry."""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import socket

import httpx
import pytest

from core.segmind.client import SegmindClient
from core.segmind.errors import (
    AuthError,
    BadRequest,
    Failed,
    NoCredits,
    NotFound,
    OutputTooLarge,
    RateLimited,
    SegmindNetworkError,
    SegmindTimeout,
    Upstream,
)
from core.segmind.parse import retry_after_seconds
from core.simulator.server import Simulator
from tests.fakes.clock import FakeClock
from tests.fakes.simulator import drive, png

POSES = "consistent-character"
POSE_V1 = "consistent-character-with-pose"
SCENE = "6865fd064727e611dfa21d4f-v5"


async def _submit(client: SegmindClient, sim: Simulator, **extra: object) -> str:
    url = await client.upload(png(), "image/png")
    return await client.submit_v2(POSES, {"subject": url, "prompt": "a knight", "seed": 5, **extra})


async def test_upload_stores_the_bytes_and_returns_a_fetchable_url(segmind_client, simulator):
    data = png((1, 2, 3))
    url = await segmind_client.upload(data, "image/png")
    assert url.startswith(simulator.url)
    fetched, mime = await segmind_client.download(url)
    assert (fetched, mime) == (data, "image/png")


async def test_v2_job_goes_queued_processing_completed_and_outputs_download(segmind_client, simulator, fake_clock):
    rid = await _submit(segmind_client, simulator, number_of_outputs=2, output_format="jpg")
    job = simulator.job(rid)
    assert await segmind_client.status_v2(rid) == "QUEUED"
    await fake_clock.advance(job.started_at - fake_clock.now() + 0.01)
    assert await segmind_client.status_v2(rid) == "PROCESSING"
    await fake_clock.advance(job.completed_at - fake_clock.now() + 0.01)
    assert await segmind_client.status_v2(rid) == "COMPLETED"
    urls = await segmind_client.result_v2(rid)
    assert len(urls) == 2
    data, mime = await segmind_client.download(urls[1])
    assert mime == "image/jpeg" and data.startswith(b"\xff\xd8\xff")


async def test_failed_job_raises_failed_with_the_detail(segmind_client, simulator, fake_clock):
    simulator.config.failure_rate = 1.0
    rid = await _submit(segmind_client, simulator)
    await fake_clock.advance(simulator.job(rid).completed_at - fake_clock.now() + 1)
    with pytest.raises(Failed) as caught:
        await segmind_client.status_v2(rid)
    assert caught.value.status == 422
    assert caught.value.detail == simulator.job(rid).failure
    assert simulator.count("/status") == 1  # a FAILED job is an answer, not something to retry


async def test_unknown_expired_and_retention_ids_are_not_found(segmind_client, simulator, fake_clock):
    with pytest.raises(NotFound):
        await segmind_client.status_v2("no-such-id")
    assert simulator.count("/status") == 1  # a 404 is an answer: never retried
    rid = await _submit(segmind_client, simulator)
    simulator.expire(rid)
    with pytest.raises(NotFound):
        await segmind_client.result_v2(rid)
    rid2 = await _submit(segmind_client, simulator)
    await fake_clock.advance(simulator.job(rid2).completed_at - fake_clock.now() + 3601)
    with pytest.raises(NotFound):
        await segmind_client.status_v2(rid2)


async def test_wrong_key_is_auth_error_and_never_shows_the_key(simulator):
    secret = "sk-very-secret-123"
    async with SegmindClient(api_key=secret, api_url=simulator.url, upload_url=simulator.url) as client:
        with pytest.raises(AuthError) as caught:
            await client.submit_v2(POSES, {"prompt": "x"})
        assert caught.value.status == 401 and secret not in str(caught.value)
        with pytest.raises(AuthError):
            await client.start_workflow(SCENE, {})
        assert await client.check_key() is False


async def test_check_key_true_for_a_good_key_and_spends_nothing(segmind_client, simulator):
    simulator.config.credits = 5
    assert await segmind_client.check_key() is True
    assert simulator.config.credits == 5 and simulator.jobs == []


async def test_rate_limit_on_status_waits_retry_after_then_succeeds(segmind_client, simulator, fake_clock):
    rid = await _submit(segmind_client, simulator)
    simulator.fail_next(429, retry_after=7)
    start = fake_clock.now()
    assert await drive(fake_clock, segmind_client.status_v2(rid), step=0.5) == "QUEUED"
    assert fake_clock.now() - start >= 7  # honoured Retry-After on the injected clock
    assert simulator.count("/status") == 2


async def test_single_attempt_status_raises_rate_limited_with_retry_after(segmind_client, simulator):
    rid = await _submit(segmind_client, simulator)
    simulator.fail_next(429, retry_after=2.5)
    with pytest.raises(RateLimited) as caught:
        await segmind_client.status_v2(rid, attempts=1)
    assert caught.value.retry_after == 2.5
    assert simulator.count("/status") == 1


async def test_server_errors_on_status_are_retried_with_capped_jittered_backoff(
    segmind_client, simulator, fake_clock
):
    rid = await _submit(segmind_client, simulator)
    simulator.fail_next(502, count=3)
    start = fake_clock.now()
    assert await drive(fake_clock, segmind_client.status_v2(rid), step=0.05) == "QUEUED"
    assert simulator.count("/status") == 4
    assert fake_clock.now() - start <= 0.5 + 1 + 2 + 0.2  # full jitter under base * 2**attempt


async def test_server_errors_past_max_attempts_raise_upstream(segmind_client, simulator, fake_clock):
    rid = await _submit(segmind_client, simulator)
    simulator.config.server_error_rate = 1.0
    with pytest.raises(Upstream) as caught:
        await drive(fake_clock, segmind_client.status_v2(rid), step=0.1)
    assert caught.value.status in (500, 502, 504)
    assert simulator.count("/status") == 4


@pytest.mark.parametrize("status", [500, 429, 400])
async def test_submit_is_never_re_posted_after_an_answer(segmind_client, simulator, status):
    url = await segmind_client.upload(png(), "image/png")
    simulator.fail_next(status, retry_after=1)
    with pytest.raises((Upstream, RateLimited, BadRequest)):
        await segmind_client.submit_v2(POSES, {"subject": url})
    assert simulator.count(f"/v2/{POSES}", "POST") == 1
    assert simulator.jobs == []


async def test_out_of_range_parameter_is_bad_request(segmind_client):
    with pytest.raises(BadRequest) as caught:
        await segmind_client.submit_v2(POSES, {"number_of_outputs": 21})
    assert "number_of_outputs" in caught.value.detail


async def test_credits_run_out_with_406_and_v1_reports_remaining(segmind_client, simulator, fake_clock):
    simulator.config.credits = 1
    face = base64.b64encode(png()).decode()
    call = segmind_client.call_v1(POSE_V1, {"face_image": face, "pose_image": face, "prompt": "p"})
    result = await drive(fake_clock, call, step=5)
    assert result.remaining_credits == 0
    assert result.mime == "image/png" and result.images[0].startswith(b"\x89PNG")
    with pytest.raises(NoCredits):
        await _submit(segmind_client, simulator)


async def test_v1_base64_body_is_decoded(segmind_client, fake_clock):
    face = base64.b64encode(png()).decode()
    payload = {"face_image": face, "pose_image": face, "prompt": "p", "base_64": True}
    result = await drive(fake_clock, segmind_client.call_v1(POSE_V1, payload), step=5)
    assert result.images[0].startswith(b"\x89PNG") and result.remaining_credits is None


async def test_workflow_polls_then_parses_the_json_string_output(segmind_client, simulator, fake_clock):
    url = await segmind_client.upload(png(), "image/png")
    poll_url = await segmind_client.start_workflow(SCENE, {"Character": url, "Scene": url, "Prompt": "on a bench"})
    assert poll_url.startswith(simulator.url)
    assert await segmind_client.poll_workflow(poll_url) == ("QUEUED", [])
    await fake_clock.advance(simulator.jobs[-1].completed_at - fake_clock.now() + 0.1)
    state, urls = await segmind_client.poll_workflow(poll_url)
    assert state == "COMPLETED" and len(urls) == 1
    assert (await segmind_client.download(urls[0]))[1] == "image/png"


async def test_failed_workflow_raises_failed(segmind_client, simulator, fake_clock):
    simulator.config.failure_rate = 1.0
    poll_url = await segmind_client.start_workflow(SCENE, {})
    await fake_clock.advance(simulator.jobs[-1].completed_at - fake_clock.now() + 0.1)
    with pytest.raises(Failed) as caught:
        await segmind_client.poll_workflow(poll_url)
    assert caught.value.detail == simulator.jobs[-1].failure


async def test_truncated_download_is_a_network_error_after_retries(segmind_client, simulator, fake_clock):
    url = await segmind_client.upload(png(), "image/png")
    simulator.config.truncate_rate = 1.0
    with pytest.raises(SegmindNetworkError):
        await drive(fake_clock, segmind_client.download(url), step=0.1)
    assert simulator.count("/files/") == 4


async def test_download_retries_a_transient_error_then_succeeds(segmind_client, simulator, fake_clock):
    data = png((9, 9, 9))
    url = await segmind_client.upload(data, "image/png")
    simulator.fail_next(503)
    assert (await drive(fake_clock, segmind_client.download(url), step=0.1))[0] == data
    assert simulator.count("/files/") == 2


async def test_download_over_the_byte_limit_is_refused_once(segmind_client, simulator):
    url = await segmind_client.upload(png(size=(300, 300)), "image/png")
    with pytest.raises(OutputTooLarge):
        await segmind_client.download(url, max_bytes=100)
    assert simulator.count("/files/") == 1


async def test_slow_body_times_out(simulator, fake_clock):
    http = httpx.AsyncClient(timeout=httpx.Timeout(0.2))
    async with SegmindClient(
        api_key="sim-key", api_url=simulator.url, upload_url=simulator.url, http=http, clock=fake_clock,
        max_attempts=1,
    ) as client:
        url = await client.upload(png(), "image/png")
        simulator.config.slow_body = True
        with pytest.raises(SegmindTimeout):
            await client.download(url)
    await http.aclose()


async def test_connection_refused_is_network_error_and_submit_retries_only_unsent(fake_clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: connection refused
        seen: list[tuple[str, int]] = []
        async with SegmindClient(
            api_key="k", api_url=dead, upload_url=dead, clock=fake_clock, rng=random.Random(1),
            observer=lambda kind, status, latency: seen.append((kind, status)),
        ) as client:
            with pytest.raises(SegmindNetworkError):
                await drive(fake_clock, client.submit_v2(POSES, {}), step=0.1)
    assert seen == [("v2.submit", 0)] * 4  # never reached the server, so repeating was safe


async def test_observer_sees_kind_status_and_latency(simulator, fake_clock):
    seen: list[tuple[str, int, float]] = []
    async with SegmindClient(
        api_key="sim-key", api_url=simulator.url, upload_url=simulator.url, clock=fake_clock,
        observer=lambda *event: seen.append(event),
    ) as client:
        with pytest.raises(NotFound):
            await client.status_v2("nope")
    assert [(k, s) for k, s, _ in seen] == [("v2.status", 404)]
    assert seen[0][2] >= 0


async def test_the_key_never_reaches_errors_or_logs(caplog, fake_clock: FakeClock):
    secret = "sk-echoed-secret"

    def echo(request: httpx.Request) -> httpx.Response:
        # A hostile or buggy upstream that echoes the key back in its error body.
        return httpx.Response(503, json={"error": f"bad key {request.headers['x-api-key']}"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(echo))
    caplog.set_level(logging.DEBUG, logger="core.segmind")  # the client and its transport
    async with SegmindClient(api_key=secret, api_url="http://x", upload_url="http://x", http=http,
                             clock=fake_clock) as client:
        with pytest.raises(Upstream) as caught:
            await drive(fake_clock, client.status_v2("r"), step=0.1)
    await http.aclose()
    assert secret not in str(caught.value) and "***" in str(caught.value)
    assert "retrying" in caplog.text and secret not in caplog.text


async def test_a_failed_workflow_body_echoing_the_key_is_scrubbed(fake_clock: FakeClock):
    secret = "sk-bearer-secret"

    def failed(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {secret}"  # workflows use Bearer, per the page
        return httpx.Response(200, json={"status": "FAILED", "error": f"quota for {secret} exceeded"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(failed))
    async with SegmindClient(api_key=secret, api_url="http://x", upload_url="http://x", http=http,
                             clock=fake_clock) as client:
        with pytest.raises(Failed) as caught:
            await client.poll_workflow("http://x/workflows/request/1")
    await http.aclose()
    assert secret not in str(caught.value) and "quota for *** exceeded" in caught.value.detail


async def test_retry_after_beyond_the_cap_gives_up_at_once(segmind_client, simulator):
    rid = await _submit(segmind_client, simulator)
    simulator.fail_next(429, retry_after=3600)
    with pytest.raises(RateLimited) as caught:
        await segmind_client.status_v2(rid)
    assert caught.value.retry_after == 3600 and simulator.count("/status") == 1


def test_retry_after_accepts_seconds_and_http_dates():
    now = 1_800_000_000.0
    assert retry_after_seconds("7", now=now) == 7
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert retry_after_seconds("soon", now=now) is None and retry_after_seconds(None, now=now) is None


async def test_check_key_raises_when_segmind_is_unreachable_rather_than_guessing(segmind_client, simulator):
    simulator.fail_next(502)
    with pytest.raises(Upstream):
        await segmind_client.check_key()
