"""Image intake: every user image passes through `normalize_image`, every download through `fetch_image`.

Why each guard exists:

- The byte cap is checked before Pillow sees a single byte; the pixel cap (40 MP, well under Pillow's
  ~89 MP default: it bounds CPU) and the decode budget (core/decoding.py: bytes held once decoded,
  64 MiB; it bounds memory) are checked from the header before decoding, so a decompression bomb costs
  nothing. Big JPEGs are decoded at reduced scale, everything is shrunk before it is copied, and at
  most two decodes run at once. Pillow's `DecompressionBombWarning` is an error as a second net.
- Only JPEG, PNG and WebP are accepted, recognised by their magic bytes rather than the filename, so a
  text file named `.png` or an SVG (which can reference external resources) never reaches a decoder.
  Animated images (GIF, APNG, animated WebP) are refused: the services take one still frame.
- EXIF orientation is applied, then the image is re-encoded from pixels only, which drops every bit of
  metadata (GPS position, camera serials, comments). Oversized metadata blocks are refused outright.
- Re-encoding: PNG when the image has transparency (JPEG would flatten it), otherwise JPEG at quality
  92. Photos are the common input and JPEG keeps them around 1 MB at 2048 px where PNG is 5-8 MB,
  which matters for uploads and for the base64 payloads some services take inline.
- Downloads follow redirects by hand so every hop is checked against the host allow-list (no SSRF via
  a redirect), is https (no downgrade) and keeps the port the download began on. They stream with a
  byte limit and never put the URL in a message or log line: Telegram file URLs carry the bot token.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Collection
from dataclasses import dataclass

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from core.decoding import DECODE_BUDGET_BYTES, decode_slots, decoded_bytes, draft_within_budget, shrink
from core.errors import ImageRejected
from core.files import extension_for

log = logging.getLogger(__name__)

MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
MAX_METADATA_BYTES = 512 * 1024  # real cameras write < 64 KB of EXIF; more is padding or an attack
MAX_REDIRECTS = 5
JPEG_QUALITY = 92

SEND_INSTEAD = "Please send a JPEG, PNG or WebP photo"
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class NormalizedImage:
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return extension_for(self.mime)


def _size(n: int) -> str:
    return f"{n / _MB:.0f} MB" if n >= _MB else f"{max(1, n // 1024)} KB"


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name for accepted magic bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe_refused(data: bytes, filename: str) -> str:
    """A friendly sentence naming what the user sent, when we can tell."""
    head = data[:512].lstrip().lower()
    if data.startswith((b"GIF87a", b"GIF89a")):
        what = "GIF images aren't supported"
    elif data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif"):
        what = "HEIC/AVIF photos (the iPhone default) aren't supported"
    elif head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        what = "SVG drawings aren't supported"
    elif filename:
        what = "That file isn't a photo I can read"
    else:
        what = "That doesn't look like a photo"
    return f"{what}. {SEND_INSTEAD} (up to {MAX_INPUT_BYTES // _MB} MB)."


def normalize_image(data: bytes, *, filename: str = "") -> NormalizedImage:
    """Check, orient, strip, shrink and re-encode one user image; ImageRejected says what to send."""
    if len(data) > MAX_INPUT_BYTES:
        raise ImageRejected(
            f"That image is {_size(len(data))}; the limit is {_size(MAX_INPUT_BYTES)}. "
            f"{SEND_INSTEAD} that is smaller."
        )
    if not data:
        raise ImageRejected(f"That file is empty. {SEND_INSTEAD}.")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageRejected(_describe_refused(data, filename))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode_and_encode(data, fmt)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(_too_many_pixels_message()) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # Truncated or corrupt files land here; the cause is logged, the user gets one clear line.
        log.info("image refused as unreadable (%s): %s", fmt, exc.__class__.__name__)
        raise ImageRejected(
            f"That image looks damaged or incomplete and can't be opened. {SEND_INSTEAD} again."
        ) from None


def _too_many_pixels_message() -> str:
    return (
        f"That image has too many pixels (limit {MAX_PIXELS // 1_000_000} megapixels). "
        f"{SEND_INSTEAD} no larger than about 6000×6000."
    )


def _decode_and_encode(data: bytes, fmt: str) -> NormalizedImage:
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        if getattr(im, "n_frames", 1) > 1:
            raise ImageRejected(f"Animated images aren't supported. {SEND_INSTEAD} (a single still frame).")
        if fmt == "JPEG":
            draft_within_budget(im, MAX_SIDE)
        width, height = im.size  # after draft: the pixels actually decoded, so 48 MP phone photos pass
        if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
            raise ImageRejected(_too_many_pixels_message())
        if decoded_bytes(width, height, im.mode, alpha="transparency" in im.info) > DECODE_BUDGET_BYTES:
            log.info("image refused: %dx%d %s over the decode budget", *im.size, im.mode)
            raise ImageRejected(_too_large_decoded_message())
        with decode_slots:
            im.load()
            # After load: PNG chunks that follow the pixel data (eXIf, tEXt) are only read by load().
            if _metadata_size(im) > MAX_METADATA_BYTES:
                raise ImageRejected(
                    f"That image carries an unusually large metadata block. {SEND_INSTEAD} "
                    "(a screenshot or an export from a photo app works)."
                )
            shrunk = shrink(im, MAX_SIDE)
            ImageOps.exif_transpose(shrunk, in_place=True)
            return _encode(_to_delivery_mode(shrunk))


def _too_large_decoded_message() -> str:
    return (
        f"That image is too large to open ({DECODE_BUDGET_BYTES // _MB} MB once decoded). "
        f"{SEND_INSTEAD} of at most about 3000×3000 pixels (photos from a phone camera are fine)."
    )


def _metadata_size(im: Image.Image) -> int:
    size = sum(len(payload) for _, payload in getattr(im, "applist", ()))  # JPEG APPn segments
    for key in ("exif", "icc_profile", "xmp"):
        value = im.info.get(key)
        if isinstance(value, bytes | str):
            size += len(value)
    text = getattr(im, "text", None) if im.format == "PNG" else None
    if text:
        size += sum(len(k) + len(v) for k, v in text.items())
    return size


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def _to_delivery_mode(im: Image.Image) -> Image.Image:
    """RGB or RGBA only: the services choke on CMYK, 16-bit and palette images."""
    if _has_alpha(im):
        rgba = im.convert("RGBA")
        # Fully opaque alpha is common in screenshots; it is not worth a PNG.
        if rgba.getextrema()[3][0] < 255:
            return rgba
        return rgba.convert("RGB")
    if im.mode.startswith("I"):
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")  # 16-bit → 8-bit, not clipped
    return im if im.mode == "RGB" else im.convert("RGB")


def _encode(im: Image.Image) -> NormalizedImage:
    out = io.BytesIO()
    if im.mode == "RGBA":
        im.save(out, format="PNG", optimize=False)
        mime = "image/png"
    else:
        im.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    encoded = out.getvalue()
    return NormalizedImage(
        data=encoded, mime=mime, width=im.width, height=im.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )


# --- downloads -----------------------------------------------------------------------------------


def host_allowed(host: str, allowed_hosts: Collection[str]) -> bool:
    """Exact host or a subdomain of an allowed host; case and a trailing dot don't matter."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    for allowed in allowed_hosts:
        allowed = allowed.lower().rstrip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def _check_url(url: httpx.URL, allowed_hosts: Collection[str]) -> None:
    if url.scheme not in ("http", "https"):
        raise ImageRejected("I can only fetch images from web links (http or https). Attach the image instead.")
    if url.userinfo or not host_allowed(url.host, allowed_hosts):
        log.info("image download refused: host %s not allowed", url.host)
        raise ImageRejected(
            "I can't fetch images from that site. Attach the image to your message instead."
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(url: httpx.URL) -> int | None:
    return url.port or _DEFAULT_PORTS.get(url.scheme)


def check_redirect(start: httpx.URL, target: httpx.URL, allowed_hosts: Collection[str]) -> None:
    """May a download that began at `start` follow a redirect to `target`? ImageRejected if not.

    The target must be an allowed host (as `start` was), over https — plain http only when the whole
    chain is plain http (the local fakes), so an https download is never downgraded to a readable,
    rewritable hop — and on the port the download began on: a redirect to another port of an allowed
    host reaches a service nobody allowed.
    """
    _check_url(target, allowed_hosts)
    if target.scheme != "https" and start.scheme == "https":
        log.info("image download refused: redirect from https to %s", target.scheme)
        raise ImageRejected("That link redirects to an insecure address. Attach the image instead.")
    if target.scheme != start.scheme or _port(target) != _port(start):
        log.info("image download refused: redirect to another scheme or port on %s", target.host)
        raise ImageRejected("That link redirects somewhere I don't fetch from. Attach the image instead.")


async def fetch_image(
    url: str, *, http: httpx.AsyncClient, allowed_hosts: Collection[str], max_bytes: int = MAX_INPUT_BYTES,
) -> bytes:
    """Download an image from an allow-listed host, checking every redirect hop and the byte limit."""
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise ImageRejected("That link isn't a valid web address. Attach the image instead.") from None
    start = current
    _check_url(start, allowed_hosts)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            async with http.stream("GET", current, follow_redirects=False) as resp:
                if resp.is_redirect:
                    current = current.join(resp.headers.get("location", ""))
                    check_redirect(start, current, allowed_hosts)
                    continue
                if resp.status_code != 200:
                    log.info("image download from %s answered HTTP %s", current.host, resp.status_code)
                    raise ImageRejected(
                        f"I couldn't download that image (the server answered {resp.status_code}). "
                        "Attach it again."
                    )
                return await _read_limited(resp, max_bytes)
        except httpx.HTTPError as exc:
            log.info("image download from %s failed: %s", current.host, exc.__class__.__name__)
            raise ImageRejected("I couldn't download that image (network error). Try again in a moment.") from None
    raise ImageRejected("That link redirects too many times. Attach the image instead.")


async def _read_limited(resp: httpx.Response, max_bytes: int) -> bytes:
    too_big = ImageRejected(
        f"That image is larger than {_size(max_bytes)}. {SEND_INSTEAD} that is smaller."
    )
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    received = 0
    async for chunk in resp.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)
