"""The console adapter on the real engine, store and simulator (virtual time): commands, errors, images."""

from __future__ import annotations

import asyncio
import io
import shutil

import pytest
from PIL import Image

from adapters.console.messenger import ConsoleMessenger
from bot.console import SAMPLE_CHARACTER, play_demo
from core.types import JobState, JobView, OutputImage


def _valid_images(paths: list[str]) -> list[tuple[int, int]]:
    sizes = []
    for path in paths:
        with Image.open(path) as image:
            image.load()
            sizes.append(image.size)
    return sizes


def _written(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  /")]


async def test_save_generate_quota_history(console, tmp_path):
    shutil.copy(SAMPLE_CHARACTER, tmp_path / "luna.png")
    saved = await console.line("/character save Luna ./luna.png --consent a girl with silver hair")
    generated = await console.line("/imagine --char Luna on a beach --n 4")
    quota = await console.line("/quota")
    history = await console.line("/history")

    assert saved.strip() == "saved character Luna: use it with /imagine --char Luna ..."
    assert "accepted: poses · Cost: 4 units" in generated
    paths = _written(generated)
    assert len(paths) == 4 and all(p.startswith(str(console.images_dir)) for p in paths)
    assert len(_valid_images(paths)) == 4
    assert ": done · after" in generated.splitlines()[-1]
    assert quota.startswith("quota: 36 unit(s) left; used today 4 of 40 a day; held 0")
    assert history.splitlines()[1].split()[1:5] == ["poses", "done,", "4", "image(s),"]
    assert console.session.last_job is not None and console.session.last_job.state == JobState.DELIVERED


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/imagine --char Nobody on a beach", "error: No character named 'Nobody' here."),
        ("/imagine --image ./missing.png at sea", "error: Cannot read ./missing.png: No such file or directory."),
        (f"/imagine --image {SAMPLE_CHARACTER} --n 99", "error: --n must be from 1 to 20; got 99."),
        ("/wat", "error: There is no /wat command."),
        ("hello there", "error: Commands start with /"),
        ('/imagine "unclosed', "error: A quote is not closed"),
        ("/character frobnicate", "error: Use /character save NAME"),
        ("/admin quota --daily lots", "error: --daily must be a whole number"),
        ("/admin ban ada", "error: You can't ban yourself."),
        ("/history many", "error: --page must be a whole number"),
    ],
)
async def test_bad_input_is_one_friendly_line_and_charges_nothing(console, line, message):
    out = await console.line(line)
    assert out.startswith(message)
    assert len(out.strip().splitlines()) == 1
    assert "Traceback" not in out
    assert (await console.line("/quota")).startswith("quota: 40 unit(s) left")
    assert (await console.line("/history")).strip() == "history: no jobs yet"


async def test_image_flag_generation_and_character_management(console, tmp_path):
    shutil.copy(SAMPLE_CHARACTER, tmp_path / "me.png")
    out = await console.line("/imagine --image me.png a portrait --n 2")
    assert len(_valid_images(_written(out))) == 2

    await console.line("/character save Kit me.png --consent")  # the README's Telegram-style spelling works too
    assert (await console.line("/character list")).splitlines()[1].strip() == "Kit"
    shown = await console.line("/character show Kit")
    assert shown.startswith("Kit\n  image: ")
    assert (await console.line("/character rename Kit Kat")).strip() == "renamed Kit to Kat"
    assert (await console.line("/character delete Kat")).strip() == "deleted Kat"
    assert (await console.line("/character list")).startswith("no saved characters yet")


async def test_admin_quota_changes_the_daily_allowance(console):
    out = await console.line("/admin quota --daily 10")
    assert out.startswith("Quota policy updated")
    assert (await console.line("/quota")).startswith("quota: 10 unit(s) left; used today 0 of 10 a day")


async def test_quit_ends_the_session(console):
    assert console.session.running
    await console.line("# a comment in a script is skipped")
    await console.line("/quit")
    assert not console.session.running


async def test_demo_saves_the_sample_generates_four_and_can_run_again(console):
    await _play(console)
    first = console.out.getvalue()
    assert "> /character save Sample" in first
    assert len(_valid_images(_written(first))) == 4
    assert "quota: 36 unit(s) left" in first

    console.out.seek(0)
    console.out.truncate()
    await _play(console)
    again = console.out.getvalue()
    assert "(Sample is already saved from an earlier demo)" in again
    assert "quota: 32 unit(s) left" in again


async def _play(console) -> None:
    task = asyncio.create_task(play_demo(console.session))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not task.done():
        if loop.time() > deadline:
            task.cancel()
            raise AssertionError("the demo did not finish")
        await console.clock.advance(0.5)
        await asyncio.sleep(0.003)
    await task


def test_live_messenger_lists_written_paths(tmp_path):
    out = io.StringIO()
    messenger = ConsoleMessenger(tmp_path / "imgs", stream=out, live=True)
    running = JobView(job_id="abcdef1234", state=JobState.RUNNING, model="poses", progress=0.4, eta=12)
    done = JobView(job_id="abcdef1234", state=JobState.DELIVERED, model="poses", progress=1.0)

    async def scenario() -> None:
        await messenger.show("ref", running)
        await messenger.deliver("ref", done, [OutputImage(b"png-bytes", "image/png", "x.png")])
        await messenger.show("ref", done)

    asyncio.run(scenario())
    assert (tmp_path / "imgs" / "abcdef12-1.png").read_bytes() == b"png-bytes"
    assert str(tmp_path / "imgs" / "abcdef12-1.png") in out.getvalue()
    assert messenger.finished("ref").is_set()


async def test_pose_and_scene_take_their_second_image_from_a_path(console):
    assets = SAMPLE_CHARACTER.parent
    await console.line(f"/character save Luna {SAMPLE_CHARACTER} --consent")
    posed = await console.line(f"/pose --char Luna --pose-image {assets / 'sample_pose.png'} dancing")
    placed = await console.line(f"/scene --char Luna --scene-image {assets / 'sample_scene.png'} at dusk")
    assert len(_valid_images(_written(posed))) == 1, posed
    assert len(_valid_images(_written(placed))) >= 1, placed


async def test_images_that_cannot_be_written_are_retried_then_not_charged(console, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    console.session.messenger.out_dir = blocker / "images"
    out = await console.line(f"/imagine --image {SAMPLE_CHARACTER} a portrait --n 2")

    assert "image(s) written" not in out
    assert ": failed · after" in out.splitlines()[-1]
    assert console.session.last_job is not None and console.session.last_job.state == JobState.FAILED
    assert (await console.line("/quota")).startswith("quota: 40 unit(s) left; used today 0")


async def test_the_accepted_line_states_the_compute_cost(console):
    """core.pricing through the console: a 4x upscaled sheet is (20 + 320 + 20) / 120 x 2 = 6 units, not 2."""
    await console.line(f"/character save Luna {SAMPLE_CHARACTER} --consent")
    sheet = await console.line("/sheet --char Luna --upscale 4 a knight")
    assert "accepted: sheet · Cost: 6 units" in sheet
    assert (await console.line("/quota")).startswith("quota: 34 unit(s) left")


async def test_pose_with_a_saved_character_takes_the_positional_image_as_the_pose(console):
    """`--image` next to `--char` on /pose is the pose image (it used to answer "either a photo or --char")."""
    assets = SAMPLE_CHARACTER.parent
    await console.line(f"/character save Luna {SAMPLE_CHARACTER} --consent")
    posed = await console.line(f"/pose --char Luna --image {assets / 'sample_pose.png'} dancing")
    assert "accepted: pose · Cost: 1 unit" in posed
    assert len(_valid_images(_written(posed))) == 1, posed
    both = await console.line(f"/imagine --char Luna --image {SAMPLE_CHARACTER} at sea")
    assert both.strip() == "error: Send either a character photo or --char NAME, not both."


async def test_help_speaks_the_consoles_way_of_attaching_images(console):
    pose = await console.line("/help pose")
    assert "pose image (required): give the pose image with --pose-image PATH" in pose
    assert "True" not in pose and "2778725438" not in pose
    missing = await console.line("/pose --char Nobody")
    assert missing.startswith("error: No character named 'Nobody'")
    await console.line(f"/character save Luna {SAMPLE_CHARACTER} --consent")
    assert (await console.line("/pose --char Luna dancing")).strip() == (
        "error: /pose also needs a pose image: give the pose image with --pose-image PATH.")


async def test_save_without_consent_stores_nothing_and_says_how_to_confirm(console):
    out = await console.line(f"/character save Luna {SAMPLE_CHARACTER} yes I may")
    assert out.startswith("not saved: only save a face you have the right to use")
    assert "--consent" in out
    assert (await console.line("/character list")).startswith("no saved characters yet")


async def test_long_lists_come_in_pages(console):
    for number in range(12):
        await console.line(f"/character save C{number:02d} {SAMPLE_CHARACTER} --consent")
    first = (await console.line("/character list")).splitlines()
    assert first[0] == "characters:" and len(first) == 12 and first[-1] == "more: /character list --page 2"
    second = (await console.line("/character list --page 2")).splitlines()
    assert second == ["characters, page 2:", "  C10", "  C11"]
