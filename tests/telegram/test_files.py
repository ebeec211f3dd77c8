"""Output images made fit for sendPhoto: recompressed when too big, a document when not a picture."""

from __future__ import annotations

import io
import os

from PIL import Image

from adapters.telegram.files import MAX_PHOTO_BYTES, photo_bytes
from core.types import OutputImage


def test_small_jpeg_goes_as_is() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, format="JPEG")
    assert photo_bytes(OutputImage(buf.getvalue(), "image/jpeg", "a.jpg")) == buf.getvalue()


def test_png_within_the_photo_limits_goes_byte_identical() -> None:
    """Segmind's usual output (a 1024 px PNG) is already a valid photo: sent as it came, never re-encoded."""
    buf = io.BytesIO()
    Image.effect_noise((1024, 1024), 60).convert("RGB").save(buf, format="PNG")
    assert photo_bytes(OutputImage(buf.getvalue(), "image/png", "1.png")) == buf.getvalue()


def test_png_over_the_photo_limit_is_recompressed_to_a_jpeg_under_it() -> None:
    side = 2000
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    noise.save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) > MAX_PHOTO_BYTES
    data = photo_bytes(OutputImage(buf.getvalue(), "image/png", "big.png"))
    assert data is not None and len(data) <= MAX_PHOTO_BYTES
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (side, side)


def test_undecodable_output_is_sent_as_a_document() -> None:
    assert photo_bytes(OutputImage(b"not an image at all", "image/tiff", "x.tif")) is None
