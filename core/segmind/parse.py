"""Segmind's HTTP answers parsed at the edge: JSON bodies, job states, output URLs, v1 image bodies.

Nothing here does I/O; `core.segmind.client` calls these on responses it has already read.
"""

from __future__ import annotations

import base64
import email.utils
from typing import Any

import httpx

from core.segmind.errors import Upstream, api_error_from

DETAIL_MAX_CHARS = 300
JOB_STATES = ("QUEUED", "PROCESSING", "COMPLETED")


def json_object(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        raise Upstream(f"Segmind answered {resp.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise Upstream("Segmind answered with JSON that is not an object")
    return body


def job_state(body: dict[str, Any]) -> str:
    state = str(body.get("status", "")).upper()
    if state == "FAILED":
        return raise_failed(body)
    if state not in JOB_STATES:
        raise Upstream(f"unknown job status {state[:20]!r}")
    return state


def raise_failed(body: dict[str, Any]) -> str:
    raise api_error_from(422, str(body.get("error") or body.get("detail") or "generation failed"))


def error_detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:DETAIL_MAX_CHARS].strip()
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if body.get(key):
                return str(body[key])[:DETAIL_MAX_CHARS]
    return str(body)[:DETAIL_MAX_CHARS]


def output_urls(value: Any) -> list[str]:
    """Every http(s) URL inside an output value (string, list or nested object), in order."""
    if isinstance(value, str):
        return [value] if value.startswith(("http://", "https://")) else []
    if isinstance(value, list | tuple):
        return [url for item in value for url in output_urls(item)]
    if isinstance(value, dict):
        return [url for item in value.values() for url in output_urls(item)]
    return []


def v1_images(resp: httpx.Response) -> tuple[list[bytes], str]:
    content_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("image/"):
        return [resp.content], content_type
    # base_64 answers: JSON {"image": "..."} / {"images": [...]} or a bare base64 text body.
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    images = [decode_image_b64(v) for v in image_strings(body)]
    images = [img for img in images if img]
    mime = sniff_mime(images[0]) if images else ""
    return images, mime or "image/jpeg"


def image_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in image_strings(item)]
    if isinstance(value, dict):
        keys = [k for k in ("image", "images", "output") if k in value]
        return [s for k in keys for s in image_strings(value[k])]
    return []


def decode_image_b64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return b""
    return data if sniff_mime(data) else b""


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return ""


def float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """`Retry-After` as seconds to wait: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    seconds = float_or_none(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
