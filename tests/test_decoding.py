"""The decode budget: refused from the header before decoding, big JPEGs drafted, two decodes at once."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from core.decoding import DECODE_BUDGET_BYTES, MAX_CONCURRENT_DECODES, decode_slots, decoded_bytes
from core.errors import ImageRejected
from core.images import normalize_image
from tests.fakes.hostile_images import zero_png


def test_the_small_1bit_png_bomb_is_refused_before_decoding() -> None:
    bomb = zero_png(6300, 6300, kind="1bit")  # 39.7 MP: under the 40 MP cap, ~380 MB decoded before
    assert len(bomb) < 5000
    with pytest.raises(ImageRejected, match="too large to open") as info:
        normalize_image(bomb)
    assert "JPEG, PNG or WebP" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("kind", "side"), [("palette", 4000), ("rgb", 4096), ("rgba", 3000)])
def test_bombs_of_every_png_kind_are_refused_under_the_pixel_cap(kind: str, side: int) -> None:
    with pytest.raises(ImageRejected, match="too large to open"):
        normalize_image(zero_png(side, side, kind=kind))


def test_the_budget_counts_pillow_storage_not_the_files_bit_depth() -> None:
    # a 1-bit pixel is a byte in Pillow, plus the greyscale copy the shrink makes
    assert decoded_bytes(6300, 6300, "1") > DECODE_BUDGET_BYTES
    assert decoded_bytes(3000, 3000, "P", alpha=True) > decoded_bytes(3000, 3000, "P")
    assert decoded_bytes(1920, 1080, "RGB") < DECODE_BUDGET_BYTES


def test_images_just_under_the_budget_still_work() -> None:
    result = normalize_image(zero_png(5180, 5180, kind="1bit"))
    assert (result.width, result.height) == (2048, 2048)


def test_a_phone_sized_jpeg_is_decoded_at_reduced_scale_and_accepted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4032, 3024), (200, 100, 50)).save(out, format="JPEG", quality=85)
    result = normalize_image(out.getvalue())
    assert result.mime == "image/jpeg"
    assert (result.width, result.height) == (2016, 1512)  # libjpeg's 1/2 scale, a hair under 2048


def test_decodes_beyond_the_limit_wait_for_a_slot() -> None:
    data = zero_png(600, 400, kind="rgb")
    done = threading.Event()
    worker = threading.Thread(target=lambda: (normalize_image(data), done.set()))
    for _ in range(MAX_CONCURRENT_DECODES):
        decode_slots.acquire()
    try:
        worker.start()
        assert not done.wait(0.5)  # every slot is taken: the decode has not run
    finally:
        for _ in range(MAX_CONCURRENT_DECODES):
            decode_slots.release()
    worker.join(10)
    assert done.is_set()
