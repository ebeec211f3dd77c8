"""Input images as core ImageSources, fetched with a size check first; output images made fit for sendPhoto.

A Telegram file URL contains the bot token, so it never leaves this module: we download the bytes
ourselves (PTB's `download_as_bytearray`) and never log or forward the URL.
"""

from __future__ import annotations

import io
import logging

from PIL import Image
from telegram import Bot, Message
from telegram.error import TelegramError

from core.commands.types import ImageSource
from core.errors import ImageRejected
from core.image_errors import ImageTooBig
from core.types import OutputImage

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile's limit on the public Bot API
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto's limit
MAX_PHOTO_SIDES = 10_000  # sendPhoto: width + height at most this
MAX_PHOTO_RATIO = 20  # sendPhoto: the long side at most this many times the short one
RECOMPRESS_SIDE = 2560
PHOTO_MIMES = ("image/jpeg", "image/png", "image/webp")


def image_sources(message: Message) -> list[ImageSource]:
    """The images a message carries itself (its photo, largest size, or its image document), positional:
    core assigns them to the model's slots. The handle is the Telegram file id."""
    if message.photo:
        best = message.photo[-1]
        return [ImageSource(best.file_id, None, f"{best.file_unique_id}.jpg", "image/jpeg", best.file_size)]
    doc = message.document
    if doc is not None:
        mime = doc.mime_type or ""
        if not mime.startswith("image/"):
            raise ImageRejected(f"“{doc.file_name or 'That file'}” is not an image. Please send a JPEG, PNG "
                                "or WebP photo.")
        return [ImageSource(doc.file_id, None, doc.file_name or "image", mime, doc.file_size)]
    return []


async def download(bot: Bot, source: ImageSource, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
    """Fetch one input file's bytes; getFile's own limit is checked before and after the call."""
    _check_size(source.filename, source.size, max_bytes)
    try:
        file = await bot.get_file(source.handle)
        _check_size(source.filename, file.file_size, max_bytes)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not fetch an input file: %s", type(exc).__name__)
        raise ImageRejected("I could not download that photo from Telegram. Please send it again.") from None
    _check_size(source.filename, len(data), max_bytes)
    return data


def _check_size(filename: str, size: int | None, max_bytes: int) -> None:
    if size is not None and size > max_bytes:
        raise ImageTooBig(filename=filename, size=size, limit=max_bytes)


def photo_bytes(image: OutputImage) -> bytes | None:
    """Bytes fit for sendPhoto (recompressed when too big), or None: send it as a document instead.

    sendPhoto takes at most 10 MB, width + height at most 10000 and a side ratio of at most 20; a photo
    too long and thin for that is only a document.
    """
    try:
        with Image.open(io.BytesIO(image.data)) as im:
            width, height = im.size
            if max(width, height) > MAX_PHOTO_RATIO * min(width, height):
                return None
            if (image.mime in PHOTO_MIMES and len(image.data) <= MAX_PHOTO_BYTES
                    and width + height <= MAX_PHOTO_SIDES):
                return image.data
            im.thumbnail((RECOMPRESS_SIDE, RECOMPRESS_SIDE))
            out = io.BytesIO()
            im.convert("RGB").save(out, format="JPEG", quality=85)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    data = out.getvalue()
    return data if len(data) <= MAX_PHOTO_BYTES else None
