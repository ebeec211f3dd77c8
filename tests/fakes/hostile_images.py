"""Generators of good and hostile image files for intake tests (also reused by adapter tests).

All are built in memory in milliseconds; none needs a fixture file on disk.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def photo_jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None) -> bytes:
    """A small opaque JPEG, left half red and right half blue, optionally with an EXIF orientation."""
    im = Image.new("RGB", (width, height), (200, 30, 30))
    im.paste((30, 30, 200), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x010F] = "HostileCam"  # Make
    exif[0x0131] = "secret-software"  # Software: must not survive normalization
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def transparent_png(width: int = 40, height: int = 40) -> bytes:
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    im.paste((10, 200, 10, 255), (0, 0, width // 2, height // 2))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def webp_image(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(out, format="WEBP")
    return out.getvalue()


def big_photo_png(width: int = 3000, height: int = 1000) -> bytes:
    """Bigger than MAX_SIDE on one axis; cheap to encode because it is one colour."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(out, format="PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def decompression_bomb_png(side: int = 12_000) -> bytes:
    """A ~15 KB PNG that inflates to side×side pixels (144 MP) of zeros: a real bomb, built fast."""
    return zero_png(side, side, kind="1bit")


# PNG colour type, bit depth and bytes per row of each kind of zero-filled PNG
_PNG_KINDS = {
    "1bit": (0, 1, lambda w: (w + 7) // 8),
    "grey": (0, 8, lambda w: w),
    "palette": (3, 8, lambda w: w),
    "rgb": (2, 8, lambda w: 3 * w),
    "rgba": (6, 8, lambda w: 4 * w),
}


def zero_png(width: int, height: int, *, kind: str = "1bit") -> bytes:
    """A PNG of zeros that is a few KB on disk whatever its size: the shape of every PNG bomb."""
    color_type, depth, row_bytes = _PNG_KINDS[kind]
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    row = b"\x00" * (1 + row_bytes(width))
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    palette = _png_chunk(b"PLTE", bytes(range(0, 256, 1)) * 3) if kind == "palette" else b""
    return (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + palette + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def oversized_file(megabytes: int = 50) -> bytes:
    """A JPEG signature followed by padding: refused on size before any decoding."""
    return b"\xff\xd8\xff\xe0" + b"\x00" * (megabytes * 1024 * 1024)


def truncated_jpeg() -> bytes:
    data = photo_jpeg(256, 256)
    return data[: len(data) // 2]


def text_named_png() -> bytes:
    return b"hello, this is just text pretending to be a picture\n" * 20


def svg_image() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<image href="http://169.254.169.254/latest/meta-data/"/></svg>'
    )


def animated_gif() -> bytes:
    frames = [Image.new("P", (16, 16), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


def animated_png() -> bytes:
    """APNG: passes the PNG magic check, must still be refused as animated."""
    frames = [Image.new("RGB", (16, 16), (i * 80, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:], duration=50)
    return out.getvalue()


def huge_exif_jpeg(segments: int = 40) -> bytes:
    """A valid JPEG with `segments` extra 64 KB APP1 blocks (~2.5 MB of metadata) after SOI."""
    data = photo_jpeg(32, 32)
    filler = b"Exif\x00\x00" + b"A" * (65_533 - 6)
    app1 = b"\xff\xe1" + struct.pack(">H", len(filler) + 2) + filler
    return data[:2] + app1 * segments + data[2:]


def huge_exif_png(size: int = 4 * 1024 * 1024) -> bytes:
    """A valid PNG carrying a multi-megabyte eXIf chunk."""
    base = transparent_png(8, 8)
    iend = base.rindex(b"IEND") - 4
    return base[:iend] + _png_chunk(b"eXIf", b"MM\x00*" + b"\x00" * size) + base[iend:]
