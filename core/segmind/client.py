"""Async client for Segmind's v1 (sync), v2 (queue), workflow and upload-asset endpoints.

One `httpx.AsyncClient` per process. Every HTTP status becomes a typed error from `core.errors`; the
network breaking is kept apart as `SegmindNetworkError`. Safe calls (status, result, download, upload)
retry with capped, fully jittered exponential backoff and honour `Retry-After`; a submit is sent once
(it is retried only when the connection was never made, so Segmind cannot have seen it).
The API key travels in headers only and is scrubbed from every error message.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from core.clock import Clock, SystemClock
from core.errors import (
    Failed,
    OutputTooLarge,
    RateLimited,
    SegmindAPIError,
    SegmindError,
    SegmindNetworkError,
    SegmindTimeout,
    Upstream,
    api_error_from,
    is_retryable,
)
from core.segmind.parse import (
    error_detail,
    float_or_none,
    job_state,
    json_object,
    output_urls,
    retry_after_seconds,
    sniff_mime,
    v1_images,
)

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5  # first retry waits up to this long (full jitter)
BACKOFF_CAP_SECONDS = 20.0  # no single backoff sleeps longer than this
RETRY_AFTER_CAP_SECONDS = 120.0  # a server asking for more than this is answered by giving up
DEFAULT_MAX_ATTEMPTS = 4
# v1 calls block while the model runs (~60 s typical), so reads get a long timeout.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
V1_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
PROBE_REQUEST_ID = "castbot-key-check-0000"  # made-up id: 404 means the key was accepted

Observer = Callable[[str, int, float], None]


@dataclass(frozen=True, slots=True)
class V1Result:
    images: tuple[bytes, ...]
    mime: str
    remaining_credits: float | None


class SegmindClient:
    """Talks to Segmind (or the simulator: every base URL is configurable)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_url: str,
        upload_url: str,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        observer: Observer | None = None,
    ) -> None:
        self._key = api_key
        self._api = api_url.rstrip("/")
        self._upload = upload_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)
        )
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._max_attempts = max(1, max_attempts)
        self._observer = observer

    async def __aenter__(self) -> SegmindClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- endpoints -------------------------------------------------------------------------------

    async def upload(self, data: bytes, mime: str) -> str:
        """Store an image in Segmind storage; returns its URL (for URI parameters)."""
        data_url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        resp = await self._send(
            "upload", "POST", f"{self._upload}/upload-asset", json={"data_urls": [data_url]}, safe=True
        )
        urls = output_urls(json_object(resp).get("file_urls"))
        if not urls:
            raise Upstream("upload-asset answered without a file URL")
        return urls[0]

    async def submit_v2(self, slug: str, payload: dict[str, Any]) -> str:
        resp = await self._send("v2.submit", "POST", f"{self._api}/v2/{slug}", json=payload, safe=False)
        request_id = json_object(resp).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise Upstream("v2 submit answered without a request_id")
        return request_id

    async def status_v2(self, request_id: str, *, attempts: int | None = None) -> str:
        """QUEUED | PROCESSING | COMPLETED. FAILED raises `Failed` (HTTP 422), unknown ids `NotFound`."""
        url = f"{self._api}/v2/requests/{request_id}/status"
        resp = await self._send("v2.status", "GET", url, safe=True, attempts=attempts)
        return self._job_state(json_object(resp))

    async def result_v2(self, request_id: str) -> list[str]:
        resp = await self._send("v2.result", "GET", f"{self._api}/v2/requests/{request_id}", safe=True)
        body = json_object(resp)
        urls = output_urls(body.get("output"))
        if not urls:
            raise Upstream(f"v2 result has no output (status {body.get('status')!s:.20})")
        return urls

    async def start_workflow(self, workflow_id: str, payload: dict[str, Any]) -> str:
        url = f"{self._api}/workflows/{workflow_id}"
        resp = await self._send("workflow.start", "POST", url, json=payload, safe=False, bearer=True)
        poll_url = json_object(resp).get("poll_url")
        if not isinstance(poll_url, str) or not poll_url.startswith(("http://", "https://")):
            raise Upstream("workflow start answered without a poll_url")
        return poll_url

    async def poll_workflow(self, poll_url: str, *, attempts: int | None = None) -> tuple[str, list[str]]:
        """(state, output URLs). The `output` field is a JSON *string*; FAILED raises `Failed`."""
        resp = await self._send("workflow.poll", "GET", poll_url, safe=True, attempts=attempts, bearer=True)
        body = json_object(resp)
        state = self._job_state(body)
        if state != "COMPLETED":
            return state, []
        output = body.get("output")
        if isinstance(output, str):
            with contextlib.suppress(ValueError):  # a bare URL string is an output too
                output = json.loads(output)
        urls = output_urls(output)
        if not urls:
            raise Upstream("workflow COMPLETED without output URLs")
        return state, urls

    async def call_v1(self, slug: str, payload: dict[str, Any]) -> V1Result:
        resp = await self._send(
            "v1.call", "POST", f"{self._api}/v1/{slug}", json=payload, safe=False, read_timeout=V1_TIMEOUT
        )
        credits = float_or_none(resp.headers.get("x-remaining-credits"))
        images, mime = v1_images(resp)
        if not images:
            raise Upstream("v1 call answered without an image")
        return V1Result(images=tuple(images), mime=mime, remaining_credits=credits)

    async def download(self, url: str, *, max_bytes: int = 30_000_000) -> tuple[bytes, str]:
        """Fetch an output file, streamed with a byte limit. Sends no credentials: outputs live elsewhere."""
        for attempt in range(self._max_attempts):
            started = time.monotonic()
            try:
                data, mime = await self._download_once(url, max_bytes)
            except SegmindError as exc:
                self._observe("download", exc, started)
                if not await self._should_retry(exc, attempt, self._max_attempts, "download"):
                    raise
                continue
            self._observe("download", 200, started)
            return data, mime
        raise AssertionError("unreachable")  # the loop returns or raises

    async def check_key(self) -> bool:
        """True when Segmind accepts the key, spending nothing.

        Asks for the status of a made-up request id: a valid key gets 404 (no such request), a bad one
        401/403. Any other answer is raised, so `castbot doctor` can tell "key wrong" from "unreachable".
        """
        try:
            await self.status_v2(PROBE_REQUEST_ID, attempts=1)
        except SegmindAPIError as exc:
            if exc.status in (401, 403):
                return False
            if exc.status == 404:
                return True
            raise
        return True

    # --- transport -------------------------------------------------------------------------------

    async def _send(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        safe: bool,
        json: dict[str, Any] | None = None,
        attempts: int | None = None,
        bearer: bool = False,
        read_timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        total = max(1, attempts if attempts is not None else self._max_attempts)
        headers = {"Authorization": f"Bearer {self._key}"} if bearer else {"x-api-key": self._key}
        for attempt in range(total):
            started = time.monotonic()
            try:
                resp = await self._http.request(
                    method, url, json=json, headers=headers, timeout=read_timeout or httpx.USE_CLIENT_DEFAULT
                )
                await resp.aread()
            except httpx.HTTPError as exc:
                error = self._network_error(exc)
                self._observe(kind, 0, started)
                # An unsent request (connect failed) is safe to repeat even for a submit.
                may_retry = safe or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if may_retry and await self._should_retry(error, attempt, total, kind):
                    continue
                raise error from None
            self._observe(kind, resp.status_code, started)
            if resp.status_code < 400:
                return resp
            error = self._api_error(resp)
            if safe and await self._should_retry(error, attempt, total, kind):
                continue
            raise error
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _download_once(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        try:
            async with self._http.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    raise self._api_error(resp)
                declared = float_or_none(resp.headers.get("content-length"))
                if declared is not None and declared > max_bytes:
                    raise OutputTooLarge(f"output is {int(declared)} bytes; the limit is {max_bytes}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise OutputTooLarge(f"output is over the {max_bytes}-byte limit")
                    chunks.append(chunk)
                mime = resp.headers.get("content-type", "").split(";")[0].strip()
        except httpx.HTTPError as exc:
            raise self._network_error(exc) from None
        data = b"".join(chunks)
        if declared is not None and len(data) < declared:
            raise SegmindNetworkError(f"download truncated: {len(data)} of {int(declared)} bytes")
        return data, sniff_mime(data) or mime or "application/octet-stream"

    async def _should_retry(self, exc: SegmindError, attempt: int, total: int, kind: str) -> bool:
        if attempt + 1 >= total or not is_retryable(exc):
            return False
        delay = self._backoff(attempt)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            if exc.retry_after > RETRY_AFTER_CAP_SECONDS:
                log.debug("%s: Retry-After %.1fs is over the cap; giving up", kind, exc.retry_after)
                return False
            delay = max(delay, exc.retry_after)
        log.debug("%s: attempt %d/%d failed (%s); retrying in %.2fs", kind, attempt + 1, total,
                  type(exc).__name__, delay)
        await self._clock.sleep(delay)
        return True

    def _backoff(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)].
        return self._rng.uniform(0.0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))

    def _api_error(self, resp: httpx.Response) -> SegmindAPIError:
        retry_after = retry_after_seconds(resp.headers.get("retry-after"), now=self._clock.now())
        return api_error_from(resp.status_code, self._scrub(error_detail(resp)), retry_after=retry_after)

    def _network_error(self, exc: httpx.HTTPError) -> SegmindNetworkError:
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return SegmindTimeout(self._scrub(f"Segmind did not answer in time ({what})"))
        return SegmindNetworkError(self._scrub(f"network error talking to Segmind ({what})"))

    def _job_state(self, body: dict[str, Any]) -> str:
        try:
            return job_state(body)
        except Failed as exc:  # FAILED bodies carry upstream text: scrub it like any error detail
            raise Failed(self._scrub(exc.detail)) from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _observe(self, kind: str, outcome: int | BaseException, started: float) -> None:
        if self._observer is None:
            return
        status = outcome if isinstance(outcome, int) else getattr(outcome, "status", 0)
        self._observer(kind, int(status), time.monotonic() - started)
