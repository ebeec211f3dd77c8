"""Generated images out as Discord files: at most 10 per message, recompressed when over the upload limit.

The limit is per file and comes with each interaction (`attachment_size_limit`: 10 MiB by default, more in
boosted servers); a whole request may carry at most 25 MiB (or one file's limit, when that is larger), so a
set of big images is split over several messages instead of being refused with 413.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from pathlib import PurePath

import discord
from PIL import Image

from core.types import OutputImage

log = logging.getLogger(__name__)

FILES_PER_MESSAGE = 10
UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's default per-file limit for bots (no boosts)
REQUEST_LIMIT = 25 * 1024 * 1024  # Discord's limit for one message request, every file included
REQUEST_MARGIN = 256 * 1024  # multipart framing and the message JSON travel in the same request
_QUALITIES = (90, 80, 70, 55, 40)


def shrink(image: OutputImage, limit: int = UPLOAD_LIMIT) -> OutputImage:
    """The image unchanged if it fits, else re-encoded as JPEG (then scaled down) until it does."""
    if len(image.data) <= limit:
        return image
    with warnings.catch_warnings():
        # Outputs are ours, but a broken upstream image must not eat the memory.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(image.data)) as im:
            im = im.convert("RGB")
    stem = PurePath(image.filename).stem or "image"
    for attempt in range(8):  # bounded: quality first, then halve the pixels
        for quality in _QUALITIES:
            out = io.BytesIO()
            im.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= limit:
                log.info("recompressed %s from %d to %d bytes", image.filename, len(image.data), out.tell())
                return OutputImage(out.getvalue(), "image/jpeg", f"{stem}.jpg", image.path, image.spoiler)
        im = im.resize((max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.LANCZOS)
        log.debug("still over the upload limit after attempt %d; halving", attempt + 1)
    raise ValueError(f"{image.filename} cannot be brought under {limit} bytes")


def _budget(limit: int) -> int:
    return max(REQUEST_LIMIT, limit) - REQUEST_MARGIN


def fit(images: Sequence[OutputImage], limit: int = UPLOAD_LIMIT) -> list[OutputImage]:
    """Each image as it will be uploaded: the same object when it already fits (no decode, no re-encode), else
    recompressed. Done once per delivery: the files a send consumes are rebuilt from these, not re-encoded."""
    return [shrink(image, min(limit, _budget(limit))) for image in images]


def batches(images: Sequence[OutputImage], limit: int = UPLOAD_LIMIT) -> list[list[discord.File]]:
    """Discord files in groups of at most ten and one request's size, each file within the upload limit."""
    budget = _budget(limit)
    groups: list[list[discord.File]] = []
    size = 0
    for number, fitted in enumerate(fit(images, limit), start=1):
        if not groups or len(groups[-1]) == FILES_PER_MESSAGE or size + len(fitted.data) > budget:
            groups.append([])
            size = 0
        name = fitted.filename or f"castbot-{number}.png"
        # spoiler=True: discord.py names the file SPOILER_…, which Discord shows behind a cover
        groups[-1].append(discord.File(io.BytesIO(fitted.data), filename=name, spoiler=fitted.spoiler))
        size += len(fitted.data)
    return groups
