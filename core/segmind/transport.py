"""The HTTP half of the Segmind client: retries, backoff, Retry-After, typed errors, a scrubbed key.

Every HTTP status becomes a typed error from `core.errors`; the network breaking is kept apart as
`SegmindNetworkError`. Safe calls (status, result, download, upload) retry with capped, fully jittered
exponential backoff and honour `Retry-After`; an unsafe one (a submit) is sent once, and repeated only
when the connection was never made, so Segmind cannot have seen it. The API key travels in headers only
and is scrubbed from every error message. Endpoint shapes live in core.segmind.client.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from core.clock import Clock
from core.segmind.errors import (
    Failed,
    OutputTooLarge,
    RateLimited,
    SegmindAPIError,
    SegmindError,
    SegmindNetworkError,
    SegmindTimeout,
    api_error_from,
    is_retryable,
)
from core.segmind.parse import error_detail, float_or_none, job_state, retry_after_seconds, sniff_mime

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5  # first retry waits up to this long (full jitter)
BACKOFF_CAP_SECONDS = 20.0  # no single backoff sleeps longer than this
RETRY_AFTER_CAP_SECONDS = 120.0  # a server asking for more than this is answered by giving up
DEFAULT_MAX_ATTEMPTS = 4

Observer = Callable[[str, int, float], None]


class SegmindTransport:
    """Sends one logical request to Segmind, retrying what is safe to retry; owns nothing but the key."""

    def __init__(self, *, api_key: str, http: httpx.AsyncClient, clock: Clock, rng: random.Random,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, observer: Observer | None = None) -> None:
        self._key = api_key
        self._http = http
        self._clock = clock
        self._rng = rng
        self._max_attempts = max(1, max_attempts)
        self._observer = observer

    async def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
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

    async def send(
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

    def job_state(self, body: dict[str, Any]) -> str:
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
