"""Async client for Segmind's v1 (sync), v2 (queue), workflow and upload-asset endpoints.

One `httpx.AsyncClient` per process. This module knows the endpoints' URLs and answer shapes; sending,
retrying, typed errors and scrubbing the key are core.segmind.transport's job.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from core.clock import Clock, SystemClock
from core.segmind.errors import SegmindAPIError, Upstream
from core.segmind.parse import float_or_none, json_object, output_urls, v1_images
from core.segmind.transport import DEFAULT_MAX_ATTEMPTS, Observer, SegmindTransport

# v1 calls block while the model runs (~60 s typical), so reads get a long timeout.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
V1_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
PROBE_REQUEST_ID = "castbot-key-check-0000"  # made-up id: 404 means the key was accepted

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
        self._api = api_url.rstrip("/")
        self._upload = upload_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)
        )
        self._transport = SegmindTransport(api_key=api_key, http=self._http, clock=clock or SystemClock(),
                                           rng=rng or random.Random(), max_attempts=max_attempts,
                                           observer=observer)

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
        resp = await self._transport.send(
            "upload", "POST", f"{self._upload}/upload-asset", json={"data_urls": [data_url]}, safe=True
        )
        urls = output_urls(json_object(resp).get("file_urls"))
        if not urls:
            raise Upstream("upload-asset answered without a file URL")
        return urls[0]

    async def submit_v2(self, slug: str, payload: dict[str, Any]) -> str:
        resp = await self._transport.send("v2.submit", "POST", f"{self._api}/v2/{slug}", json=payload, safe=False)
        request_id = json_object(resp).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise Upstream("v2 submit answered without a request_id")
        return request_id

    async def status_v2(self, request_id: str, *, attempts: int | None = None) -> str:
        """QUEUED | PROCESSING | COMPLETED. FAILED raises `Failed` (HTTP 422), unknown ids `NotFound`."""
        url = f"{self._api}/v2/requests/{request_id}/status"
        resp = await self._transport.send("v2.status", "GET", url, safe=True, attempts=attempts)
        return self._transport.job_state(json_object(resp))

    async def result_v2(self, request_id: str) -> list[str]:
        resp = await self._transport.send("v2.result", "GET", f"{self._api}/v2/requests/{request_id}", safe=True)
        body = json_object(resp)
        urls = output_urls(body.get("output"))
        if not urls:
            raise Upstream(f"v2 result has no output (status {body.get('status')!s:.20})")
        return urls

    async def start_workflow(self, workflow_id: str, payload: dict[str, Any]) -> str:
        url = f"{self._api}/workflows/{workflow_id}"
        resp = await self._transport.send("workflow.start", "POST", url, json=payload, safe=False, bearer=True)
        poll_url = json_object(resp).get("poll_url")
        if not isinstance(poll_url, str) or not poll_url.startswith(("http://", "https://")):
            raise Upstream("workflow start answered without a poll_url")
        return poll_url

    async def poll_workflow(self, poll_url: str, *, attempts: int | None = None) -> tuple[str, list[str]]:
        """(state, output URLs). The `output` field is a JSON *string*; FAILED raises `Failed`."""
        resp = await self._transport.send("workflow.poll", "GET", poll_url, safe=True, attempts=attempts, bearer=True)
        body = json_object(resp)
        state = self._transport.job_state(body)
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
        resp = await self._transport.send(
            "v1.call", "POST", f"{self._api}/v1/{slug}", json=payload, safe=False, read_timeout=V1_TIMEOUT
        )
        credits = float_or_none(resp.headers.get("x-remaining-credits"))
        images, mime = v1_images(resp)
        if not images:
            raise Upstream("v1 call answered without an image")
        return V1Result(images=tuple(images), mime=mime, remaining_credits=credits)

    async def download(self, url: str, *, max_bytes: int = 30_000_000) -> tuple[bytes, str]:
        """Fetch an output file, streamed with a byte limit. Sends no credentials: outputs live elsewhere."""
        return await self._transport.download(url, max_bytes=max_bytes)

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
