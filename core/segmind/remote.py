"""One way to run a catalog model on Segmind, whatever its transport (v2 queue, v1 sync, workflow).

The engine and `castbot generate` both use it, so upload / submit / status / download logic exists once.
Pacing is the caller's: `check` makes one status request (plus the result fetch once COMPLETED).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.catalog import Encoding, Model, Transport
from core.errors import InvalidParameter
from core.segmind.client import SegmindClient
from core.types import ImageInput, ImageRole

log = logging.getLogger(__name__)

DEFAULT_MAX_OUTPUT_BYTES = 30_000_000
DOWNLOAD_CONCURRENCY = 4  # outputs of one job fetched side by side, politely


@dataclass(frozen=True, slots=True)
class RemoteHandle:
    """What to persist to find a running job again: a v2 request id or a workflow poll URL."""

    transport: Transport
    ref: str


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    state: str  # QUEUED | PROCESSING | COMPLETED
    output_urls: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.state == "COMPLETED"


@dataclass(frozen=True, slots=True)
class Started:
    """A v2/workflow job has a handle to poll; a v1 call has its images already."""

    handle: RemoteHandle | None
    images: tuple[tuple[bytes, str], ...] = ()


class RemoteRunner:
    def __init__(self, client: SegmindClient) -> None:
        self._client = client

    async def prepare(
        self, model: Model, payload: dict[str, Any], images: Mapping[ImageRole, ImageInput],
        *, uploaded: Mapping[ImageRole, str] | None = None,
    ) -> dict[str, Any]:
        """The full API payload: URI image slots uploaded to Segmind storage, base64 slots inlined.

        `uploaded` holds storage URLs already known for a role (a saved character's cached upload).
        """
        uploaded = uploaded or {}
        for slot in model.images:  # check all before uploading any: a refused request costs nothing
            if slot.required and slot.role not in images and slot.role not in uploaded:
                raise InvalidParameter(
                    f"“{model.key}” needs a {slot.role.value} image; attach one and try again.",
                    param=slot.role.value,
                )
        full = dict(payload)
        for slot in model.images:
            image = images.get(slot.role)
            if image is None:
                continue
            if slot.encoding is Encoding.URI and slot.role in uploaded:
                full[slot.field] = uploaded[slot.role]
            elif slot.encoding is Encoding.URI:
                full[slot.field] = await self._client.upload(image.data, image.mime)
            else:
                full[slot.field] = base64.b64encode(image.data).decode("ascii")
        return full

    async def start(self, model: Model, payload: dict[str, Any]) -> Started:
        """Submit once. v2 and workflow return a handle to save at once; v1 blocks and returns images."""
        if model.transport is Transport.V2:
            request_id = await self._client.submit_v2(model.slug, payload)
            log.info("submitted %s as v2 request %s", model.key, request_id)
            return Started(RemoteHandle(Transport.V2, request_id))
        if model.transport is Transport.WORKFLOW:
            poll_url = await self._client.start_workflow(model.slug, payload)
            log.info("started workflow %s", model.key)
            return Started(RemoteHandle(Transport.WORKFLOW, poll_url))
        result = await self._client.call_v1(model.slug, payload)
        log.info("v1 %s returned %d image(s); credits left %s", model.key, len(result.images),
                 result.remaining_credits)
        return Started(None, tuple((data, result.mime) for data in result.images))

    async def check(self, handle: RemoteHandle, *, attempts: int | None = 1) -> RemoteStatus:
        """One status request. FAILED raises `Failed`, gone raises `NotFound`, others their typed errors."""
        if handle.transport is Transport.V2:
            state = await self._client.status_v2(handle.ref, attempts=attempts)
            if state != "COMPLETED":
                return RemoteStatus(state)
            return RemoteStatus(state, tuple(await self._client.result_v2(handle.ref)))
        if handle.transport is Transport.WORKFLOW:
            state, urls = await self._client.poll_workflow(handle.ref, attempts=attempts)
            return RemoteStatus(state, tuple(urls))
        raise ValueError(f"a {handle.transport} job has nothing to poll")

    async def fetch(
        self, status: RemoteStatus, *, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    ) -> list[tuple[bytes, str]]:
        """Download every output as (bytes, mime), in order."""
        gate = asyncio.Semaphore(DOWNLOAD_CONCURRENCY)

        async def one(url: str) -> tuple[bytes, str]:
            async with gate:
                return await self._client.download(url, max_bytes=max_bytes)

        return list(await asyncio.gather(*(one(url) for url in status.output_urls)))
