"""`--image PATH` on the console reads only regular files, and only so much of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(60), pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero")]


async def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(console, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    out = await console.line("/imagine --image pipe.png at sea")
    assert out.startswith("error: pipe.png is not a regular file"), out
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(("path", "expected"), [("/dev/zero", "is not a regular file"), (".", "is a folder")])
async def test_devices_and_folders_are_refused(console, path: str, expected: str) -> None:
    out = await console.line(f"/imagine --image {path} at sea")
    assert out.startswith(f"error: {path} {expected}"), out
    assert (await console.line("/history")).strip() == "history: no jobs yet"


async def test_a_file_over_the_cap_is_refused(console, tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with open(big, "wb") as fh:
        fh.truncate(60 * 1024 * 1024)  # sparse: costs no disk
    out = await console.line("/imagine --image big.png at sea")
    assert out.startswith("error: big.png is 60 MB"), out
