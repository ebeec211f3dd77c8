"""Files under the data directory are written whole or not at all, and named by what they hold."""

from __future__ import annotations

import mimetypes
import os
import uuid
from pathlib import Path

# The image types Segmind returns; mimetypes alone would give ".jpe" for JPEG on some systems.
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def extension_for(mime: str) -> str:
    """The file suffix (with its dot) for a MIME type; ".bin" for one nobody knows."""
    return EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"


def write_atomic(path: Path, data: bytes, *, once: bool = False) -> None:
    """Write `data` to `path` through a unique temporary file and an atomic rename.

    A reader never sees half a file, and concurrent writers of the same content-addressed path (two
    users sending the same photo) never trip over each other's temporary file. `once`: keep an
    existing file as it is.
    """
    if once and path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
