"""fetch_image's redirect policy: https only (no downgrade), allowed hosts, the port the download began on."""

from __future__ import annotations

import httpx
import pytest

from core.errors import ImageRejected
from core.images import check_redirect, fetch_image
from tests.fakes import hostile_images as hostile

CDN = ["cdn.discordapp.com", "media.discordapp.net"]
START = httpx.URL("https://cdn.discordapp.com/attachments/1/2/face.png?ex=1")


@pytest.mark.parametrize("target", [
    "https://cdn.discordapp.com/other.png",
    "https://media.discordapp.net/face.png",
    "https://cdn.discordapp.com:443/face.png",
])
def test_https_hops_to_allowed_hosts_on_the_same_port_are_followed(target: str) -> None:
    check_redirect(START, httpx.URL(target), CDN)


@pytest.mark.parametrize(("target", "expected"), [
    ("http://cdn.discordapp.com/face.png", "insecure"),
    ("https://cdn.discordapp.com:8443/face.png", "somewhere I don't fetch from"),
    ("https://evil.example/face.png", "can't fetch images from that site"),
    ("ftp://cdn.discordapp.com/face.png", "http or https"),
])
def test_downgrades_other_ports_and_other_hosts_are_refused(target: str, expected: str) -> None:
    with pytest.raises(ImageRejected, match=expected):
        check_redirect(START, httpx.URL(target), CDN)


def test_a_plain_http_chain_may_stay_plain_but_not_change_port() -> None:
    local = httpx.URL("http://127.0.0.1:5000/a.png")
    check_redirect(local, httpx.URL("http://127.0.0.1:5000/b.png"), ["127.0.0.1"])
    with pytest.raises(ImageRejected):
        check_redirect(local, httpx.URL("http://127.0.0.1:6379/"), ["127.0.0.1"])


class RedirectingCdn:
    """A fake transport for https://cdn.discordapp.com: redirects once to `target`, records every request."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.requested: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(str(request.url))
        if request.url.path == "/start.png":
            return httpx.Response(302, headers={"location": self.target})
        return httpx.Response(200, content=hostile.photo_jpeg(8, 8), headers={"content-type": "image/jpeg"})


@pytest.mark.parametrize("target", ["http://cdn.discordapp.com/face.png",
                                    "https://cdn.discordapp.com:8443/face.png"])
async def test_fetch_never_sends_the_refused_hop(target: str) -> None:
    cdn = RedirectingCdn(target)
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        with pytest.raises(ImageRejected):
            await fetch_image("https://cdn.discordapp.com/start.png", http=http, allowed_hosts=CDN)
    assert cdn.requested == ["https://cdn.discordapp.com/start.png"]


async def test_fetch_follows_an_https_hop_on_the_same_port() -> None:
    cdn = RedirectingCdn("https://cdn.discordapp.com/face.png")
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        data = await fetch_image("https://cdn.discordapp.com/start.png", http=http, allowed_hosts=CDN)
    assert data.startswith(b"\xff\xd8") and len(cdn.requested) == 2
