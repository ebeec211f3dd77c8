"""Commands that never reach Segmind: help, menu, addressing, edits, and the input checks."""

from __future__ import annotations

from tests.fakes.telegram import BOT_USERNAME
from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo

ALICE = 1001
GROUP = -5001


async def test_start_publishes_the_command_menu(world: TelegramWorld) -> None:
    (call,) = world.tg.calls_to("setMyCommands")
    names = [c["command"] for c in call.params["commands"]]
    assert {"imagine", "pose", "scene", "sheet", "character", "quota", "cancel", "admin"} <= set(names)


async def test_help_is_answered_from_the_catalog(world: TelegramWorld) -> None:
    world.tg.send_text(ALICE, ALICE, "/help imagine")
    await world.until(lambda: world.texts(ALICE), what="help reply")
    assert "--n" in world.texts(ALICE)[0] and "illustration" in world.texts(ALICE)[0]


async def test_group_command_with_our_name_works_and_another_bots_is_ignored(world: TelegramWorld) -> None:
    world.tg.send_text(GROUP, ALICE, "/help@otherbot")
    world.tg.send_text(GROUP, ALICE, f"/quota@{BOT_USERNAME}")
    await world.until(lambda: world.texts(GROUP), what="quota reply")
    await world.clock.advance(2.0)  # give a stray /help time to show up, were it (wrongly) handled
    (reply,) = world.texts(GROUP)
    assert "Units left" in reply


async def test_invalid_flag_gets_a_clear_message_and_no_job(world: TelegramWorld) -> None:
    world.tg.send_photo(ALICE, ALICE, photo(), caption="/imagine on a beach --n 99")
    await world.until(lambda: world.texts(ALICE), what="error reply")
    (reply,) = world.texts(ALICE)
    assert "1 to 20" in reply
    assert await world.app.service.history(_actor(), _dm_place()) == []


async def test_missing_photo_is_explained(world: TelegramWorld) -> None:
    world.tg.send_text(ALICE, ALICE, "/imagine a knight")
    await world.until(lambda: world.texts(ALICE), what="error reply")
    assert "photo" in world.texts(ALICE)[0] and "--char" in world.texts(ALICE)[0]


async def test_oversized_photo_is_refused_before_download(world: TelegramWorld) -> None:
    world.tg.send_document(ALICE, ALICE, photo(), mime="image/jpeg", name="huge.jpg", caption="/imagine x",
                           size=25 * 1024 * 1024)
    await world.until(lambda: world.texts(ALICE), what="error reply")
    assert "huge.jpg is 25 MB" in world.texts(ALICE)[0] and "up to 20 MB" in world.texts(ALICE)[0]  # core's wording
    assert world.tg.calls_to("getFile") == []


async def test_a_file_that_is_not_an_image_is_refused(world: TelegramWorld) -> None:
    world.tg.send_document(ALICE, ALICE, b"%PDF-1.4 not a picture", mime="application/pdf", name="cv.pdf",
                           caption="/imagine x")
    await world.until(lambda: world.texts(ALICE), what="error reply")
    assert "not an image" in world.texts(ALICE)[0]


async def test_image_named_jpeg_that_is_not_one_is_refused_by_intake(world: TelegramWorld) -> None:
    world.tg.send_document(ALICE, ALICE, b"GIF89a but really junk", mime="image/jpeg", name="x.jpg",
                           caption="/imagine x")
    await world.until(lambda: world.texts(ALICE), what="error reply")
    assert "JPEG, PNG or WebP" in world.texts(ALICE)[0]
    assert len(world.texts(ALICE)) == 1, "the refusal is the only answer: no job, so no status message"


def _actor():
    from core.types import Actor

    return Actor("telegram", str(ALICE))


def _dm_place():
    from core.types import Place

    return Place("telegram", f"dm:{ALICE}", str(ALICE))
