"""Files under the data directory are written whole or not at all, and named by what they hold."""

from __future__ import annotations

import mimetypes
import os
import stat
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


class FileRefused(ValueError):
    """A path that is not a regular file, or is over the size cap; str() finishes "<path> ..."."""


def read_regular_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; FileRefused for folders, pipes, devices.

    A user-given path can name a FIFO (a plain read waits forever for a writer) or /dev/zero (a plain
    read never ends): the file is opened non-blocking, checked with fstat on the same descriptor (no
    swap between check and read), and read to at most max_bytes + 1 whatever it claims to be.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused("is a folder, not an image file")
        raise FileRefused("is not a regular file (a pipe, device or socket); give the path of an image file")
    with os.fdopen(fd, "rb", buffering=0) as fh:
        too_big = FileRefused(f"is over {max_bytes // 1_048_576} MB, the limit for an image")
        if info.st_size > max_bytes:
            raise too_big
        chunks, received = [], 0
        while chunk := fh.read(max_bytes + 1 - received):
            chunks.append(chunk)
            received += len(chunk)
            if received > max_bytes:
                raise too_big
        return b"".join(chunks)
