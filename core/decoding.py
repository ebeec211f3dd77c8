"""The memory budget of one image decode, and how many decodes may run at once.

A compressed file says nothing about what it costs to decode: a 4.9 KB 1-bit PNG of 6300×6300 held
~380 MB once decoded and converted to RGB, and four at once reached 1.45 GB. So the cost is computed
from the header, before a pixel is decoded, as what Pillow will actually hold:

- the decoded image in Pillow's own storage, which is not the file's bit depth: a 1-bit or palette
  pixel takes a byte, every multi-band mode (RGB included) takes four, 16-bit greyscale two;
- plus the full-resolution copies the shrink makes: 1-bit becomes greyscale (so the shrink filters
  instead of dropping pixels), a palette becomes RGB(A) (a palette cannot be filtered), RGBA is
  premultiplied by Pillow's resize; plus the resize's intermediate pass. Everything after the shrink
  is at most 2048×2048 (16 MB) and is not counted.

DECODE_BUDGET_BYTES is 64 MiB. That admits what people send: phone JPEGs of any size are decoded at
1/2 to 1/8 scale by libjpeg (`Image.draft`; a 12 MP photo counts 18 MB at half scale), a 4K RGB
screenshot counts 50 MB. It refuses the bombs: the 4.9 KB 6300×6300 1-bit PNG counts 99 MB, an RGB
PNG over about 3300×3300 is refused. At most MAX_CONCURRENT_DECODES decodes run at once (the machine
has two cores; decoding is CPU-bound and Pillow releases the GIL), so decoding adds at most about
2 × (64 + 32) MB to the process's peak whatever arrives (32 MB: the copies after the shrink), and
callers beyond that wait their turn in their worker thread.

"""

from __future__ import annotations

import threading

from PIL import Image

DECODE_BUDGET_BYTES = 64 * 1024 * 1024
MAX_CONCURRENT_DECODES = 2

# Full-resolution copies the shrink makes, in bytes per pixel: 1-bit becomes greyscale, a palette
# becomes RGB or RGBA, and Pillow resizes RGBA/LA through a premultiplied copy of the same size.
_COPIES = {"1": 1, "P": 4, "LA": 4, "RGBA": 4}
_COPIES_WITH_ALPHA = {"P": 8, "PA": 8}

decode_slots = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


def storage_bytes_per_pixel(mode: str) -> int:
    """What Pillow allocates per pixel for `mode` (its in-memory layout, not the file's)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4  # "I", "F" and every multi-band mode: Pillow pads RGB, YCbCr, LA … to 32 bits


def decoded_bytes(width: int, height: int, mode: str, *, alpha: bool = False) -> int:
    """Bytes held at the peak of decoding and shrinking this image (`alpha`: a palette with transparency).

    The decoded pixels, the full-size copies listed above, and the resize's first pass (half the width
    at full height: at most half of the largest full-size image, since it only runs when shrinking).
    """
    native = storage_bytes_per_pixel(mode)
    copies = (_COPIES_WITH_ALPHA if alpha else _COPIES).get(mode, 0)
    per_pixel_x2 = 2 * (native + copies) + max(native, copies)
    return width * height * per_pixel_x2 // 2


def draft_within_budget(im: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2–1/8 scale: to `max_side` when that fits the budget, else to half of it.

    A 12 MP phone photo at full size is over the budget once the resize is counted; at half scale it
    is 2016×1512, a hair under 2048, and costs a quarter.
    """
    width, height = im.size
    for target in (max_side, max_side // 2):
        scale = next(s for s in (8, 4, 2, 1) if s <= max(1, min(width // target, height // target)))
        if decoded_bytes(-(-width // scale), -(-height // scale), "RGB") <= DECODE_BUDGET_BYTES:
            break
    im.draft("RGB", (target, target))


def shrink(im: Image.Image, max_side: int) -> Image.Image:
    """At most `max_side` per side, shrunk before any other copy is made (decoded_bytes counts on it)."""
    if max(im.size) <= max_side:
        return im
    if im.mode == "1":
        im = im.convert("L")  # filter grey levels rather than drop pixels
    elif im.mode in ("P", "PA"):
        alpha = im.mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if alpha else "RGB")  # a palette can't be filtered
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return im
