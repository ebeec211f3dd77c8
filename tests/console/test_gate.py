"""Ratings and the image safety gate on the console: the console scope is SFW until `/admin rating nsfw`;
a flagged result is then not written (or written and labelled, when spoilers were chosen)."""

from __future__ import annotations

import shutil

from bot.console import SAMPLE_CHARACTER
from core.store.modlog import ModLog
from core.types import JobState
from tests.fakes.safety import FLAG_WORD


def _written(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  /")]


async def test_console_withholds_until_rated_nsfw(console, tmp_path):
    shutil.copy(SAMPLE_CHARACTER, tmp_path / "luna.png")
    await console.line("/character save Luna ./luna.png --consent")
    held = await console.line(f"/imagine --char Luna {FLAG_WORD} on a beach")
    assert _written(held) == [] and "not posted" in held and "Nothing was charged" in held
    assert console.session.last_job.state == JobState.WITHHELD
    assert not console.images_dir.exists() or not any(console.images_dir.iterdir())
    scope = console.session.place.scope_id
    [event] = await ModLog(console.app.store).events(scope_id=scope, kinds=("image_withheld", "image_spoilered"))
    assert event.kind == "image_withheld"

    assert "Rating here: SFW" in await console.line("/admin rating")
    assert "Rating set: NSFW" in await console.line("/admin rating nsfw")
    posted = await console.line(f"/imagine --char Luna {FLAG_WORD} at night")
    assert len(_written(posted)) == 1 and "flagged" not in posted

    await console.line("/admin rating sfw --flagged spoiler")
    covered = await console.line(f"/imagine --char Luna {FLAG_WORD} in a park")
    [line] = [x for x in covered.splitlines() if x.startswith("  /")]
    assert "flagged by the safety check" in line
    assert [e.kind for e in await ModLog(console.app.store).events(scope_id=scope)] == [
        "image_spoilered", "gate_choice_set", "rating_set", "rating_set", "image_withheld"]
    assert "error: A rating is sfw or nsfw; got “spicy”." in await console.line("/admin rating spicy")
    assert "error: --flagged must be one of withhold, spoiler" in await console.line("/admin rating --flagged x")
