"""Saving a result as a character: a face nobody confirmed (a raw photo's job) asks the saver first."""

from __future__ import annotations

import json

from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo
from tests.telegram.test_flows import ALICE, pick

CONSENT = "I may use this face"


async def _characters(world: TelegramWorld) -> list[tuple]:
    return await world.app.store.fetch_all("SELECT name, consent_by, consent_how FROM characters")


async def test_save_button_on_a_raw_photo_result_asks_and_saves_only_on_the_press(world: TelegramWorld) -> None:
    world.tg.send_photo(ALICE, ALICE, photo("teal"), caption="/imagine on a beach")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), step=0.5, what="result delivered")
    result = world.tg.bot_messages(ALICE)[-1]
    world.tg.press(ALICE, result, pick(result, "Save"))
    await world.until(lambda: any(CONSENT in json.dumps(m.get("reply_markup", ""))
                                  for m in world.tg.bot_messages(ALICE)), what="consent question")
    assert await _characters(world) == []

    question = world.tg.bot_messages(ALICE)[-1]
    world.tg.press(ALICE, question, pick(question, "may use"))
    await world.until(lambda: any("Saved <b>look-" in t for t in world.texts(ALICE)), what="saved after consent")
    ((name, by, how),) = await _characters(world)
    assert name.startswith("look-") and (by, how) == (str(ALICE), "button")


async def test_typed_save_from_a_raw_photo_job_needs_the_consent_flag(world: TelegramWorld) -> None:
    world.tg.send_photo(ALICE, ALICE, photo("teal"), caption="/imagine on a beach")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), step=0.5, what="result delivered")
    job_id = (await world.app.store.fetch_one("SELECT job_id FROM jobs"))[0]
    world.tg.send_text(ALICE, ALICE, f"/character save Tide --job {job_id} she always says yes")
    await world.until(lambda: any(CONSENT in json.dumps(m.get("reply_markup", ""))
                                  for m in world.tg.bot_messages(ALICE)), what="consent question")
    assert await _characters(world) == []
    world.tg.send_text(ALICE, ALICE, f"/character save Tide --job {job_id} --consent")
    await world.until(lambda: any("Saved <b>Tide</b>" in t for t in world.texts(ALICE)), what="saved")
    assert await _characters(world) == [("Tide", str(ALICE), "flag")]


async def test_a_pending_save_holds_the_file_id_not_the_download(world: TelegramWorld) -> None:
    world.tg.send_photo(ALICE, ALICE, photo("teal"), caption="/character save Mia")
    await world.until(lambda: any(CONSENT in json.dumps(m.get("reply_markup", ""))
                                  for m in world.tg.bot_messages(ALICE)), what="consent question")
    assert world.tg.calls_to("getFile") == []  # nothing is fetched (or held) before the saver's press
    question = world.tg.bot_messages(ALICE)[-1]
    world.tg.press(ALICE, question, pick(question, "may use"))
    await world.until(lambda: any("Saved <b>Mia</b>" in t for t in world.texts(ALICE)), what="saved")
    assert len(world.tg.calls_to("getFile")) == 1
