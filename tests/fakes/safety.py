"""A tiny deterministic safety classifier for tests: it flags exactly the simulator's marked pictures.

The simulator draws its test mark (core.simulator.art.FLAG_COLOURS, two solid corner blocks) when the prompt
carries SimConfig.flag_word; this classifier reads the pixels, so the gate is exercised on real image bytes
through every adapter without the optional model. Lossy formats shift colours a little: a tolerance absorbs it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from core.moderation.classifier import Verdict
from core.simulator.art import FLAG_BLOCK, FLAG_COLOURS

FLAG_WORD = "flagme"  # the SimConfig.flag_word tests use
TOLERANCE = 48  # per channel, after WebP/JPEG


@dataclass
class MarkClassifier:
    name: str = "test-mark"
    seen: list[float] = field(default_factory=list)  # every score given, in order: proof it ran

    @property
    def active(self) -> bool:
        return True

    def classify(self, data: bytes) -> Verdict:
        with Image.open(io.BytesIO(data)) as im:
            rgb = im.convert("RGB")
        inset = FLAG_BLOCK // 4
        left = rgb.getpixel((inset, inset))
        right = rgb.getpixel((rgb.width - 1 - inset, inset))
        marked = all(_near(pixel, colour) for pixel, colour in zip((left, right), FLAG_COLOURS, strict=True))
        score = 0.99 if marked else 0.01
        self.seen.append(score)
        return Verdict(score, ("test-mark",) if marked else ())


def _near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= TOLERANCE for a, b in zip(pixel, colour, strict=True))
