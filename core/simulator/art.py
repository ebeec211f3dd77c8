"""Placeholder pictures for the Segmind simulator, drawn with Pillow from the inputs and the prompt.

Same inputs, prompt, seed and index give the same bytes; a different seed gives a different picture.
Drawing is cached, because a benchmark runs a thousand jobs through one simulator.
"""

from __future__ import annotations

import hashlib
import io
import random
import textwrap
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

SIDE = 320  # small on purpose: it is a placeholder and must draw fast
CACHE_SIZE = 512
# The test hook for the image safety gate: a "flagged" picture carries these two solid blocks in its top
# corners (magenta left, green right), which survive JPEG/WebP and which the random art never draws (its
# background stays within 40..220 per channel). tests/fakes/safety.py's classifier looks for them.
FLAG_BLOCK = 32
FLAG_COLOURS = ((255, 0, 255), (0, 255, 0))
FORMATS = {"webp": ("WEBP", "image/webp"), "jpg": ("JPEG", "image/jpeg"), "jpeg": ("JPEG", "image/jpeg"),
           "png": ("PNG", "image/png")}


@dataclass(frozen=True, slots=True)
class ArtSpec:
    """Everything a picture depends on; hashable, so it keys the cache."""

    inputs: tuple[bytes, ...]  # decoded input images (character first), possibly empty
    prompt: str
    seed: int
    index: int
    fmt: str  # webp | jpg | png
    flagged: bool = False  # draw the safety gate's test mark (SimConfig.flag_word was in the prompt)

    @property
    def mime(self) -> str:
        return FORMATS.get(self.fmt, FORMATS["png"])[1]


class ArtCache:
    """Draws pictures once per spec, keeping the most recent ones."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[ArtSpec, bytes] = OrderedDict()

    def get(self, spec: ArtSpec) -> bytes:
        data = self._items.get(spec)
        if data is None:
            data = draw(spec)
            self._items[spec] = data
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(spec)
        return data


def draw(spec: ArtSpec) -> bytes:
    rng = random.Random(f"{spec.seed}:{spec.index}:{_digest(spec)}")
    background = tuple(rng.randrange(40, 220) for _ in range(3))
    canvas = Image.new("RGB", (SIDE, SIDE), background)
    pen = ImageDraw.Draw(canvas)
    for _ in range(6):  # a few seed-dependent shapes so seeds are visibly different
        x, y = rng.randrange(SIDE), rng.randrange(SIDE)
        r = rng.randrange(10, 60)
        pen.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    for slot, data in enumerate(spec.inputs[:2]):
        _paste(canvas, data, rng, scale=0.55 if slot == 0 else 0.35)
    caption = textwrap.wrap(spec.prompt or "(no prompt)", width=34)[:4]
    caption.append(f"seed {spec.seed} #{spec.index + 1}")
    pen.rectangle((0, SIDE - 14 * len(caption) - 8, SIDE, SIDE), fill=(0, 0, 0))
    for line_no, line in enumerate(caption):
        pen.text((6, SIDE - 14 * (len(caption) - line_no) - 4), line, fill=(255, 255, 255))
    if spec.flagged:
        left, right = FLAG_COLOURS
        pen.rectangle((0, 0, FLAG_BLOCK - 1, FLAG_BLOCK - 1), fill=left)
        pen.rectangle((SIDE - FLAG_BLOCK, 0, SIDE - 1, FLAG_BLOCK - 1), fill=right)
    out = io.BytesIO()
    pil_format = FORMATS.get(spec.fmt, FORMATS["png"])[0]
    options = {"quality": 80} if pil_format in ("WEBP", "JPEG") else {}
    canvas.save(out, pil_format, **options)
    return out.getvalue()


def _paste(canvas: Image.Image, data: bytes, rng: random.Random, *, scale: float) -> None:
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.draft("RGB", (SIDE, SIDE))  # JPEG: decode at reduced size, much faster
            image = ImageOps.exif_transpose(source).convert("RGB")
    except Exception:  # not an image: Segmind would fail; the simulator just skips the picture
        return
    side = int(SIDE * scale)
    image.thumbnail((side, side))
    image = image.rotate(rng.uniform(-15, 15), expand=True, fillcolor=canvas.getpixel((0, 0)))
    x = rng.randrange(0, max(1, SIDE - image.width))
    y = rng.randrange(0, max(1, SIDE - image.height - 40))
    canvas.paste(image, (x, y))


def _digest(spec: ArtSpec) -> str:
    h = hashlib.sha256(spec.prompt.encode())
    for data in spec.inputs:
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:16]
