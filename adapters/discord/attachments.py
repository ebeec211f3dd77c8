"""Attachments in: checked from Discord's metadata first, downloaded only from Discord's CDN hosts."""

from __future__ import annotations

import logging
from collections.abc import Collection

import discord
import httpx

from core.errors import ImageRejected
from core.images import MAX_INPUT_BYTES, SEND_INSTEAD, fetch_image

log = logging.getLogger(__name__)

CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
DEFAULT_API_URL = "https://discord.com/api/v10"
ACCEPTED_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
_MB = 1024 * 1024


def allowed_hosts(api_url: str) -> tuple[str, ...]:
    """Discord's CDN hosts, plus the API host when it is overridden (a proxy or the tests' fake)."""
    if api_url.rstrip("/") == DEFAULT_API_URL:
        return CDN_HOSTS
    host = httpx.URL(api_url).host
    return (*CDN_HOSTS, host) if host else CDN_HOSTS


def check_metadata(attachment: discord.Attachment, *, what: str, max_bytes: int = MAX_INPUT_BYTES) -> None:
    """Refuse before any download: wrong type or too big, with a message that says how to fix it."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        shown = content_type or "a file of unknown type"
        raise ImageRejected(f"The {what} “{attachment.filename}” is {shown}. {SEND_INSTEAD}.")
    if attachment.size > max_bytes:
        raise ImageRejected(
            f"The {what} “{attachment.filename}” is {attachment.size / _MB:.1f} MB; "
            f"the limit is {max_bytes // _MB} MB. Send a smaller picture."
        )


async def download(
    attachment: discord.Attachment, *, http: httpx.AsyncClient, hosts: Collection[str],
    max_bytes: int = MAX_INPUT_BYTES,
) -> bytes:
    """The raw bytes, streamed with a byte limit; the service runs the image intake on them."""
    data = await fetch_image(attachment.url, http=http, allowed_hosts=hosts, max_bytes=max_bytes)
    log.debug("downloaded attachment %s (%d bytes)", attachment.id, len(data))
    return data
