"""Decode-memory benchmark: peak RSS of the whole process while 8 hostile images arrive at once.

    uv run python tests/bench/decode_memory.py                     # budget on vs. off, this checkout
    uv run python tests/bench/decode_memory.py --before ../main    # also the code at ../main (pre-budget)

Each figure comes from a fresh child process that builds the real app (`bot.app.build_app`, store,
engine, simulator) and submits eight `poses` jobs at once through `CastService.submit`, so every image
goes through the real intake (`normalize_image` in the service's worker threads). The child prints the
process's peak RSS (VmHWM from /proc/self/status) after the eight submits finish.

Two hostile sets, each "just under the limits" of one version:
- old: zero-filled PNGs of 6320×6320 (39.9 MP, under the old 40 MP cap) in 1-bit, grey, palette, RGB,
  RGBA, plus a 6320×6320 JPEG: a few KB each on disk, hundreds of MB once decoded.
- new: just under the 64 MiB decode budget as core/decoding.py counts it: 1-bit 5180², palette 3096²,
  RGB 3344², RGBA 2590², grey 6320² (the pixel cap), JPEGs of 3344² (full scale) and 8100² (1/4 scale).
Target: < 300 MB for the whole process with the budget on.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve()
TARGET_MB = 300


def _jpeg(side: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (90, 120, 150)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def hostile_set(which: str) -> list[tuple[str, bytes]]:
    from tests.fakes.hostile_images import zero_png

    if which == "old":
        side = 6320
        pngs = [(kind, zero_png(side, side, kind=kind)) for kind in ("1bit", "grey", "palette", "rgb", "rgba")]
        pngs += [("1bit", zero_png(side, side, kind="1bit")), ("palette", zero_png(side, side, kind="palette"))]
        return [*pngs, ("jpeg", _jpeg(side))]
    return [("1bit", zero_png(5180, 5180, kind="1bit")), ("palette", zero_png(3096, 3096, kind="palette")),
            ("rgb", zero_png(3344, 3344, kind="rgb")), ("rgba", zero_png(2590, 2590, kind="rgba")),
            ("grey", zero_png(6320, 6320, kind="grey")), ("1bit", zero_png(5180, 5180, kind="1bit")),
            ("jpeg", _jpeg(3344)), ("jpeg", _jpeg(8100))]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _submit_all(files: list[Path], data_dir: Path, no_budget: bool) -> dict:
    from bot.app import build_app
    from bot.settings import Settings
    from core.errors import UserError
    from core.types import Actor, ImageInput, ImageRole, Place, Request

    if no_budget:  # the baseline: decoding as before the budget (no byte budget, no decode limit)
        import core.images as images

        if hasattr(images, "DECODE_BUDGET_BYTES"):
            images.DECODE_BUDGET_BYTES = 1 << 62
            images.decode_slots = threading.BoundedSemaphore(1000)
    images_in = [path.read_bytes() for path in files]
    settings = Settings(CASTBOT_DATA_DIR=data_dir, SEGMIND_API_KEY="")
    start = peak_rss_mb()
    async with build_app(settings) as app:
        async def one(i: int, data: bytes) -> str:
            request = Request(actor=Actor("console", f"u{i}"), place=Place("console", f"s{i}", f"c{i}"),
                              model="poses", prompt="x", images=(ImageInput(ImageRole.CHARACTER, data),),
                              idem_key=f"bench:{i}", reply_ref=f"r{i}")
            try:
                await app.service.submit(request)
                return "accepted"
            except UserError as exc:
                return f"refused: {str(exc)[:40]}"

        outcomes = await asyncio.gather(*(one(i, data) for i, data in enumerate(images_in)))
        await app.engine.stop()
    return {"before_submit_mb": start, "peak_mb": peak_rss_mb(), "outcomes": outcomes}


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, args.code)
    files = sorted(Path(args.files).glob("*.img"))
    with tempfile.TemporaryDirectory() as data_dir:
        result = asyncio.run(_submit_all(files, Path(data_dir), args.no_budget))
    print(json.dumps(result))


def run_child(code: Path, files: Path, *, no_budget: bool) -> dict:
    cmd = [sys.executable, str(HERE), "--child", "--code", str(code), "--files", str(files)]
    if no_budget:
        cmd.append("--no-budget")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=code)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the code before the budget, to measure too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=str(HERE.parents[2]), help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--no-budget", action="store_true", help="(child) turn the budget and decode limit off")
    args = parser.parse_args()
    if args.child:
        return child(args)
    sys.path.insert(0, str(HERE.parents[2]))
    ours = HERE.parents[2]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = {}
        for which in ("old", "new"):
            folder = Path(tmp, which)
            folder.mkdir()
            for i, (kind, data) in enumerate(hostile_set(which)):
                (folder / f"{i}-{kind}.img").write_bytes(data)
            sets[which] = folder
        if args.before:
            runs.append(("before (code at --before), old set", run_child(args.before.resolve(), sets["old"],
                                                                          no_budget=False)))
        runs.append(("budget off, old set", run_child(ours, sets["old"], no_budget=True)))
        runs.append(("budget off, new set", run_child(ours, sets["new"], no_budget=True)))
        runs.append(("budget on,  old set", run_child(ours, sets["old"], no_budget=False)))
        runs.append(("budget on,  new set", run_child(ours, sets["new"], no_budget=False)))
    print(f"{'run':38} {'idle MB':>8} {'peak MB':>8}  accepted/8")
    for label, result in runs:
        accepted = sum(1 for o in result["outcomes"] if o == "accepted")
        print(f"{label:38} {result['before_submit_mb']:8.0f} {result['peak_mb']:8.0f}  {accepted}")
    worst = max(r["peak_mb"] for label, r in runs if label.startswith("budget on"))
    print(f"worst peak with the budget on: {worst:.0f} MB (target < {TARGET_MB} MB): "
          f"{'OK' if worst < TARGET_MB else 'OVER'}")


if __name__ == "__main__":
    main()
