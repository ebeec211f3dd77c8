"""Done-when scenarios: the real PTB application, the real app (store, engine, simulator), a fake Bot API."""

from __future__ import annotations

import json

from tests.telegram.conftest import TelegramWorld
from tests.telegram.helpers import photo

ALICE, BOB = 2001, 2002
GROUP = -6001


def buttons(message: dict) -> dict[str, str]:
    """Button label -> callback_data of a message the fake recorded."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def pick(message: dict, word: str) -> str:
    return next(data for label, data in buttons(message).items() if word in label)


async def save_luna(world: TelegramWorld, chat: int = ALICE, user: int = ALICE) -> None:
    world.tg.send_photo(chat, user, photo("purple"), caption="/character save Luna --consent")
    await world.until(lambda: any("Saved" in t for t in world.texts(chat)), what="character saved")


async def test_save_a_character_from_a_captioned_photo(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/character list")
    await world.until(lambda: any("Luna" in t and "Characters" in t for t in world.texts(ALICE)))


async def test_saving_without_consent_asks_and_only_the_owner_may_confirm(world: TelegramWorld) -> None:
    world.tg.send_photo(GROUP, ALICE, photo("teal"), caption="/character save Mia")
    await world.until(lambda: any("I may use this face" in json.dumps(m.get("reply_markup", ""))
                                  for m in world.tg.bot_messages(GROUP)), what="consent question")
    question = world.tg.bot_messages(GROUP)[-1]
    data = pick(question, "may use")
    world.tg.press(BOB, question, data)
    await world.until(lambda: world.tg.calls_to("answerCallbackQuery"))
    assert "Only the person" in world.tg.calls_to("answerCallbackQuery")[0].params["text"]
    assert not any("Saved" in t for t in world.texts(GROUP))
    world.tg.press(ALICE, question, data)
    await world.until(lambda: any("Saved <b>Mia</b>" in t for t in world.texts(GROUP)), what="saved after consent")


async def test_imagine_with_a_saved_character_edits_status_then_delivers_with_buttons(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna on a beach --n 2")
    await world.until(lambda: world.tg.calls_to("sendMediaGroup", ALICE), step=0.5, what="album delivered")
    (album,) = world.tg.calls_to("sendMediaGroup", ALICE)
    assert len(album.files) == 2
    status = world.tg.calls_to("sendMessage", ALICE)[1]  # [0] is "Saved Luna"
    edits = world.tg.calls_to("editMessageText", ALICE)
    assert edits and all(e.params["message_id"] == str(status_id(world, status)) for e in edits)
    await world.until(lambda: "Done" in world.tg.bot_messages(ALICE)[1]["text"], what="status says done")
    actions = world.tg.bot_messages(ALICE)[-1]
    assert {"Re-roll", "Same seed", "Save as character", "Delete"} <= {k.split(" ", 1)[1] for k in buttons(actions)}

    world.tg.press(ALICE, actions, pick(actions, "Re-roll"))
    await world.until(lambda: len(world.tg.calls_to("sendMediaGroup", ALICE)) == 2, step=0.5, what="re-roll")


async def test_the_accepted_status_states_the_jobs_compute_cost(world: TelegramWorld) -> None:
    """core.pricing through Telegram: 20 steps at 1536x1024 is 2 x 1.5 = 3 units; the status message says so
    and the quota moves by the same."""
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna --model illustration --steps 20 --width 1536 a knight")
    await world.until(lambda: len(world.texts(ALICE)) >= 2, what="status message")
    assert "Cost: 3 units" in world.texts(ALICE)[1]
    await world.until(lambda: "Done" in world.tg.bot_messages(ALICE)[1]["text"], step=0.5, what="status says done")
    assert "Cost: 3 units" in world.tg.bot_messages(ALICE)[1]["text"]
    world.tg.send_text(ALICE, ALICE, "/quota")
    await world.until(lambda: "Units left: 37" in world.texts(ALICE)[-1], what="quota moved by the cost")


async def test_button_press_by_someone_else_changes_nothing(world: TelegramWorld) -> None:
    await save_luna(world, GROUP)
    world.tg.send_text(GROUP, ALICE, "/imagine --char Luna in the snow")
    await world.until(lambda: world.tg.calls_to("sendPhoto", GROUP), step=0.5, what="photo delivered")
    result = world.tg.bot_messages(GROUP)[-1]
    world.tg.press(BOB, result, pick(result, "Re-roll"))
    await world.until(lambda: world.tg.calls_to("answerCallbackQuery"))
    assert "Only the person" in world.tg.calls_to("answerCallbackQuery")[0].params["text"]
    await world.clock.advance(60)
    assert len(world.tg.calls_to("sendPhoto", GROUP)) == 1


async def test_cancel_button_stops_the_job_and_nothing_is_delivered(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna reading a book")
    await world.until(lambda: len(world.tg.bot_messages(ALICE)) >= 2 and "Cancel" in json.dumps(
        world.tg.bot_messages(ALICE)[1].get("reply_markup", "")), what="status with cancel button")
    status = world.tg.bot_messages(ALICE)[1]
    world.tg.press(ALICE, status, pick(status, "Cancel"))
    await world.until(lambda: "Cancelled" in world.tg.bot_messages(ALICE)[1]["text"], what="cancelled status")
    await world.clock.advance(120)
    assert world.tg.calls_to("sendPhoto", ALICE) == [] and world.tg.calls_to("sendMediaGroup", ALICE) == []


async def test_cancel_command_cancels_the_latest_job(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna at night")
    await world.until(lambda: len(world.tg.bot_messages(ALICE)) >= 2 and "Cancel" in json.dumps(
        world.tg.bot_messages(ALICE)[1].get("reply_markup", "")), what="job accepted")
    world.tg.send_text(ALICE, ALICE, "/cancel")
    await world.until(lambda: "Cancelled" in world.tg.bot_messages(ALICE)[1]["text"], what="cancelled status")


async def test_exhausted_quota_is_a_clear_message_and_charges_nothing(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna --n 20 --per-pose 4")
    await world.until(lambda: len(world.texts(ALICE)) >= 2, what="quota reply")
    reply = world.texts(ALICE)[-1]
    assert "unit" in reply.lower() or "quota" in reply.lower()
    world.tg.send_text(ALICE, ALICE, "/quota")
    await world.until(lambda: "Units left: 40" in world.texts(ALICE)[-1], what="quota untouched")


def status_id(world: TelegramWorld, call) -> int:
    """The message id the fake gave the bot's reply to a sendMessage call."""
    texts = [m for m in world.tg.bot_messages(call.chat_id)]
    return texts[1]["message_id"]


async def test_pose_from_an_album_character_first_then_the_pose(world: TelegramWorld) -> None:
    world.tg.send_album(ALICE, ALICE, [photo("purple"), photo("gray")], caption="/pose dancing")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), step=0.5, what="pose delivered")
    jobs = await world.app.service.history(_alice(), _alice_dm())
    assert [j.model for j in jobs] == ["pose"]
    assert len(world.tg.calls_to("getFile")) == 2


async def test_an_edited_command_never_starts_a_second_job(world: TelegramWorld) -> None:
    await save_luna(world)
    sent = world.tg.send_text(ALICE, ALICE, "/imagine --char Luna on a hill")
    world.tg.edit_text(sent, "/imagine --char Luna on a mountain")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), step=0.5, what="delivery")
    await world.clock.advance(60)
    assert len(await world.app.service.history(_alice(), _alice_dm())) == 1


async def test_a_429_in_one_chat_does_not_delay_another(world: TelegramWorld) -> None:
    await save_luna(world, ALICE, ALICE)
    await save_luna(world, BOB, BOB)
    world.tg.flood(ALICE, retry_after=40, times=3, methods={"editMessageText", "sendPhoto"})
    start = world.clock.now()
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna in rain")
    world.tg.send_text(BOB, BOB, "/imagine --char Luna in rain")
    await world.until(lambda: world.tg.calls_to("sendPhoto", BOB), step=0.5, what="Bob's delivery")
    bob_done = world.tg.calls_to("sendPhoto", BOB)[0].at - start
    await world.until(lambda: [c for c in world.tg.calls_to("sendPhoto", ALICE) if c.status == 200], step=0.5,
                      what="Alice's delivery")
    alice_done = next(c for c in world.tg.calls_to("sendPhoto", ALICE) if c.status == 200).at - start
    assert alice_done >= 40 > bob_done


def _alice():
    from core.types import Actor

    return Actor("telegram", str(ALICE))


def _alice_dm():
    from core.types import Place

    return Place("telegram", f"dm:{ALICE}", str(ALICE))


async def test_character_show_rename_delete_and_history(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/character show Luna")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), what="character shown")
    assert "Luna" in world.tg.calls_to("sendPhoto", ALICE)[0].params["caption"]
    world.tg.send_text(ALICE, ALICE, "/character rename Luna Nova")
    await world.until(lambda: any("Renamed to <b>Nova</b>" in t for t in world.texts(ALICE)), what="renamed")
    world.tg.send_text(ALICE, ALICE, "/character delete Nova")
    await world.until(lambda: any("Deleted <b>Nova</b>" in t for t in world.texts(ALICE)), what="deleted")
    world.tg.send_text(ALICE, ALICE, "/history")
    await world.until(lambda: any("No jobs yet" in t for t in world.texts(ALICE)), what="history")


async def test_group_admin_commands_follow_telegram_admins(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [ALICE]
    world.tg.send_text(GROUP, BOB, "/admin stats")
    await world.until(lambda: world.texts(GROUP), what="refusal")
    assert "admins" in world.texts(GROUP)[0]
    world.tg.send_text(GROUP, ALICE, f"/admin ban {BOB}")
    await world.until(lambda: any("banned" in t for t in world.texts(GROUP)), what="ban")
    world.tg.send_photo(GROUP, BOB, photo(), caption="/character save Bobby --consent")
    await world.until(lambda: any("banned" in t and "castbot" in t for t in world.texts(GROUP)), what="banned")
    world.tg.send_text(GROUP, ALICE, "/admin stats")
    await world.until(lambda: any("Units spent" in t for t in world.texts(GROUP)), what="stats")


async def test_result_buttons_save_the_face_and_send_originals(world: TelegramWorld) -> None:
    await save_luna(world)
    world.tg.send_text(ALICE, ALICE, "/imagine --char Luna as a pilot")
    await world.until(lambda: world.tg.calls_to("sendPhoto", ALICE), step=0.5, what="delivery")
    result = world.tg.bot_messages(ALICE)[-1]
    world.tg.press(ALICE, result, pick(result, "Save"))
    await world.until(lambda: world.tg.calls_to("answerCallbackQuery"), what="save answered")
    assert "Saved as “look-" in world.tg.calls_to("answerCallbackQuery")[0].params["text"]
    names = [c.name for c in await world.app.service.characters(_alice(), _alice_dm())]
    assert len(names) == 2 and any(n.startswith("look-") for n in names)
    world.tg.press(ALICE, result, pick(result, "Originals"))
    await world.until(lambda: world.tg.calls_to("sendDocument", ALICE), what="originals sent")
    assert world.tg.calls_to("sendDocument", ALICE)[0].files
    world.tg.press(ALICE, result, pick(result, "Delete"))
    await world.until(lambda: (ALICE, result["message_id"]) not in world.tg.messages, what="result deleted")


async def test_a_group_admin_may_delete_anothers_result_but_not_reroll_it(world: TelegramWorld) -> None:
    world.tg.admins[GROUP] = [BOB]
    await save_luna(world, GROUP)
    world.tg.send_text(GROUP, ALICE, "/imagine --char Luna under the stars")
    await world.until(lambda: world.tg.calls_to("sendPhoto", GROUP), step=0.5, what="photo delivered")
    result = world.tg.bot_messages(GROUP)[-1]
    world.tg.press(BOB, result, pick(result, "Re-roll"))
    await world.until(lambda: world.tg.calls_to("answerCallbackQuery"))
    refusal = world.tg.calls_to("answerCallbackQuery")[0].params
    assert "admins may cancel or delete it" in refusal["text"] and refusal["show_alert"] in (True, "true")
    await world.clock.advance(60)
    assert len(world.tg.calls_to("sendPhoto", GROUP)) == 1, "no job on the admin's quota"
    world.tg.press(BOB, result, pick(result, "Delete"))
    await world.until(lambda: world.tg.calls_to("deleteMessage", GROUP), what="result deleted by the admin")
