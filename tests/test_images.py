"""Image intake: good images come out normalized, hostile ones are refused with a clear message."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from PIL import Image

from core import images
from core.errors import ImageRejected
from core.images import MAX_SIDE, fetch_image, host_allowed, normalize_image
from tests.fakes import hostile_images as hostile

# --- normalize_image: good input --------------------------------------------------------------


def test_jpeg_is_reencoded_without_metadata() -> None:
    result = normalize_image(hostile.photo_jpeg(64, 48))
    assert result.mime == "image/jpeg"
    assert (result.width, result.height) == (64, 48)
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    assert b"secret-software" not in result.data and b"HostileCam" not in result.data
    with Image.open(io.BytesIO(result.data)) as im:
        assert not im.getexif()


def test_exif_orientation_is_applied_before_stripping() -> None:
    result = normalize_image(hostile.photo_jpeg(64, 48, orientation=6))  # 6 = rotate 90° clockwise
    with Image.open(io.BytesIO(result.data)) as im:
        assert im.size == (48, 64)
        red_top, blue_bottom = im.getpixel((24, 5)), im.getpixel((24, 58))
    assert red_top[0] > 150 and red_top[2] < 80
    assert blue_bottom[2] > 150 and blue_bottom[0] < 80


def test_transparency_is_kept_as_png() -> None:
    result = normalize_image(hostile.transparent_png())
    assert result.mime == "image/png"
    with Image.open(io.BytesIO(result.data)) as im:
        assert im.mode == "RGBA"
        assert im.getpixel((35, 35))[3] == 0


def test_webp_is_accepted() -> None:
    assert normalize_image(hostile.webp_image()).mime == "image/jpeg"


def test_longest_side_is_capped() -> None:
    result = normalize_image(hostile.big_photo_png(3000, 1000))
    assert (result.width, result.height) == (MAX_SIDE, 683)


def test_same_input_gives_same_hash() -> None:
    data = hostile.photo_jpeg(30, 30)
    assert normalize_image(data).sha256 == normalize_image(data).sha256


# --- normalize_image: hostile input -----------------------------------------------------------

HOSTILE = [
    ("decompression bomb", hostile.decompression_bomb_png, "too many pixels"),
    ("50 MB file", lambda: hostile.oversized_file(50), "the limit is 20 MB"),
    ("truncated jpeg", hostile.truncated_jpeg, "damaged or incomplete"),
    ("text named .png", hostile.text_named_png, "isn't a photo"),
    ("svg", hostile.svg_image, "SVG drawings aren't supported"),
    ("animated gif", hostile.animated_gif, "GIF images aren't supported"),
    ("animated png", hostile.animated_png, "Animated images aren't supported"),
    ("huge exif jpeg", hostile.huge_exif_jpeg, "unusually large metadata"),
    ("huge exif png", hostile.huge_exif_png, "unusually large metadata"),
    ("empty file", lambda: b"", "empty"),
    ("heic photo", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC/AVIF"),
    ("bmp", lambda: b"BM" + b"\x00" * 64, "isn't a photo I can read"),
]


@pytest.mark.parametrize(("label", "make", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_file_is_refused_clearly(label: str, make, expected: str) -> None:
    with pytest.raises(ImageRejected) as info:
        normalize_image(make(), filename="photo.png")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert "JPEG, PNG or WebP" in message  # every refusal says what to send instead


def test_bomb_is_refused_by_pixel_cap_even_under_pillows_own_limit() -> None:
    # 7000×7000 = 49 MP: Pillow's default (89 MP) would decode it; our 40 MP cap does not.
    assert Image.MAX_IMAGE_PIXELS > 7000 * 7000
    with pytest.raises(ImageRejected, match="too many pixels"):
        normalize_image(hostile.decompression_bomb_png(7000))


# --- host allow-list --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("cdn.discordapp.com", True),
        ("media.cdn.discordapp.com", True),
        ("CDN.DiscordApp.com.", True),
        ("evildiscordapp.com", False),
        ("cdn.discordapp.com.evil.net", False),
        ("", False),
    ],
)
def test_host_allowed(host: str, ok: bool) -> None:
    assert host_allowed(host, ["cdn.discordapp.com"]) is ok


# --- fetch_image against a real local server ---------------------------------------------------

JPEG = hostile.photo_jpeg(20, 20)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(body=JPEG, content_type="image/jpeg")

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # no Content-Length: the streaming cap must catch it
        await resp.prepare(request)
        for _i in range(64):
            await resp.write(b"\x00" * 16_384)
        return resp

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404)

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_get("/ok.jpg", ok)
    app.router.add_get("/big", big)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/missing", missing)
    app.router.add_get("/loop", loop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


ALLOWED = ["127.0.0.1"]


async def test_fetch_from_allowed_host(server: str, http: httpx.AsyncClient) -> None:
    assert await fetch_image(f"{server}/ok.jpg", http=http, allowed_hosts=ALLOWED) == JPEG


async def test_fetch_follows_allowed_redirect(server: str, http: httpx.AsyncClient) -> None:
    data = await fetch_image(f"{server}/redirect?to=/ok.jpg", http=http, allowed_hosts=ALLOWED)
    assert data == JPEG


async def test_fetch_refuses_non_allowed_host(http: httpx.AsyncClient) -> None:
    with pytest.raises(ImageRejected, match="can't fetch images from that site"):
        await fetch_image("http://169.254.169.254/latest", http=http, allowed_hosts=ALLOWED)


async def test_fetch_refuses_redirect_to_non_allowed_host(server: str, http: httpx.AsyncClient) -> None:
    # localhost is the same machine but not on the list: the hop must be refused before connecting.
    port = server.rsplit(":", 1)[1]
    target = f"http://localhost:{port}/ok.jpg"
    with pytest.raises(ImageRejected, match="can't fetch images from that site"):
        await fetch_image(f"{server}/redirect?to={target}", http=http, allowed_hosts=ALLOWED)


async def test_fetch_streams_with_byte_limit(server: str, http: httpx.AsyncClient) -> None:
    with pytest.raises(ImageRejected, match="larger than 512 KB"):
        await fetch_image(f"{server}/big", http=http, allowed_hosts=ALLOWED, max_bytes=512 * 1024)


async def test_fetch_refuses_declared_oversize(server: str, http: httpx.AsyncClient) -> None:
    with pytest.raises(ImageRejected, match="larger than"):
        await fetch_image(f"{server}/ok.jpg", http=http, allowed_hosts=ALLOWED, max_bytes=100)


async def test_fetch_reports_http_errors_and_redirect_loops(server: str, http: httpx.AsyncClient) -> None:
    with pytest.raises(ImageRejected, match="answered 404"):
        await fetch_image(f"{server}/missing", http=http, allowed_hosts=ALLOWED)
    with pytest.raises(ImageRejected, match="redirects too many times"):
        await fetch_image(f"{server}/loop", http=http, allowed_hosts=ALLOWED)


async def test_fetch_refuses_other_schemes_and_userinfo(http: httpx.AsyncClient) -> None:
    with pytest.raises(ImageRejected, match="http or https"):
        await fetch_image("file:///etc/passwd", http=http, allowed_hosts=ALLOWED)
    with pytest.raises(ImageRejected, match="can't fetch"):
        await fetch_image("http://user:pw@127.0.0.1/x", http=http, allowed_hosts=ALLOWED)


async def test_fetch_never_leaks_the_url(server: str, http: httpx.AsyncClient, caplog) -> None:
    secret_url = f"{server}/missing?token=bot123:SECRET"
    caplog.set_level("DEBUG", logger=images.__name__)
    with pytest.raises(ImageRejected) as info:
        await fetch_image(secret_url, http=http, allowed_hosts=ALLOWED)
    assert "SECRET" not in str(info.value)
    assert "SECRET" not in caplog.text
