"""Small helpers shared by the Telegram tests (no app imports, so messenger tests stand alone)."""

from __future__ import annotations

import io

from PIL import Image

REAL_TIMEOUT = 30.0  # real seconds any wait in these tests may take before failing


def photo(color: str = "orange", size: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="JPEG")
    return buf.getvalue()
