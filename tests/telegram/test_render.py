"""HTML cut for Telegram: every page parses (checked by the fake's own parser) and nothing visible is lost."""

from __future__ import annotations

import pytest

from adapters.telegram import render
from tests.fakes.telegram.rules import parse_html

LISTING = "\n".join(f"• <b>name {n} &amp; co</b> — <i>about {n} &lt;3</i>" for n in range(500))
ONE_SPAN = "intro <b>" + "&quot;bold&quot; " * 1500 + "</b> outro"


@pytest.mark.parametrize("text", [LISTING, ONE_SPAN, "plain " * 2000])
def test_pages_parse_fit_and_lose_nothing(text: str) -> None:
    pages = render.pages(text, 4096, most=10)
    parsed = [parse_html(page) for page in pages]
    assert len(pages) > 1 and all(len(p.text) <= 4096 for p in parsed)
    joined = "".join(p.text for p in parsed)
    assert joined.replace("\n", "").replace(" ", "") == parse_html(text).text.replace("\n", "").replace(" ", "")


def test_fit_cuts_between_entities_closes_tags_and_marks_the_cut() -> None:
    fitted = render.fit(ONE_SPAN, 100)
    parsed = parse_html(fitted)
    assert len(parsed.text) <= 100 and parsed.text.endswith("…")
    assert fitted.endswith("</b>…") and "&quot" not in fitted.rsplit("&quot;", 1)[-1]


def test_too_many_pages_end_in_an_ellipsis() -> None:
    pages = render.pages(LISTING, 1000, most=3)
    assert len(pages) == 3 and parse_html(pages[-1]).text.endswith("…")
