"""Helpers for tests that run against the Segmind simulator on a fake clock."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from typing import TypeVar

from PIL import Image

from tests.fakes.clock import FakeClock

T = TypeVar("T")


def png(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 64)) -> bytes:
    """A small real PNG, distinct per colour."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


async def drive(clock: FakeClock, awaitable: Awaitable[T], *, step: float = 1.0, max_seconds: float = 4000.0) -> T:
    """Run `awaitable` to completion, moving virtual time so backoff sleeps and simulated jobs progress."""
    task = asyncio.ensure_future(awaitable)
    try:
        await clock.run_until(task.done, step=step, max_seconds=max_seconds)
    finally:
        if not task.done():
            task.cancel()
    return task.result()
