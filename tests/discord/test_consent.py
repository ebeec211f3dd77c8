"""Save as character on a result whose face is no longer confirmed (its character was deleted) asks first."""

from __future__ import annotations

from core.types import Actor, Place
from tests.discord.conftest import DiscordWorld, option, photo, sub
from tests.discord.test_commands import answer, finished_job
from tests.discord.test_e2e import GUILD, USER

CONSENT = "I may use this face"


async def test_a_deleted_characters_result_is_saved_only_after_the_confirm_press(world: DiscordWorld) -> None:
    job_id, message_id, _ = await finished_job(world)  # made with Luna, which its saver now deletes
    await world.app.service.delete_character(Actor("discord", str(USER)), Place("discord", str(GUILD), "333"),
                                             "Luna")
    press = await world.dc.press(f"cb:save:{job_id}", message_id)
    modal = await world.dc.wait_call("POST", f"/interactions/{press['id']}/")
    fields = [c["components"][0]["custom_id"] for c in modal.json["data"]["components"]]
    sent = await world.dc.submit_modal(modal.json["data"]["custom_id"], {fields[0]: "Back", fields[1]: "1"})
    question = await answer(world, sent)
    assert "Not saved" in question.json["content"]
    assert await world.app.service.book.list(scope_id=str(GUILD)) == []

    confirm = next(m for m in world.dc.messages.values() if CONSENT in str(m.get("components")))
    button = next(b["custom_id"] for row in confirm["components"] for b in row["components"])
    pressed = await world.dc.press(button, confirm["id"])
    assert "Saved character **Back**" in (await answer(world, pressed)).json["content"]
    rows = await world.app.store.fetch_all("SELECT name, consent_by, consent_how FROM characters")
    assert rows == [("Back", str(USER), "button")]


async def test_pending_confirmations_are_bounded_and_hold_no_download(world: DiscordWorld) -> None:
    world.adapter.handlers.max_pending = 1
    asked = []
    for name in ("First", "Second"):
        att = world.dc.add_attachment(photo(), filename=f"{name}.png")
        sent = await world.dc.slash("character", [sub("save", option("name", name), option("image", att["id"], 11))],
                                    attachments=[att])
        assert "Not saved" in (await answer(world, sent)).json["content"]
        asked.append(next(m for m in reversed(world.dc.messages.values()) if CONSENT in str(m.get("components"))))
    assert not world.dc.find("GET", "/cdn/attachments/")  # nothing was downloaded while waiting for the press
    assert len(world.adapter.handlers.pending) == 1

    for message in asked:  # the oldest button stopped answering; the newest still saves
        button = next(b["custom_id"] for row in message["components"] for b in row["components"])
        last = await world.dc.press(button, message["id"])
    assert "Saved character **Second**" in (await answer(world, last)).json["content"]
    assert [c.name for c in await world.app.service.book.list(scope_id=str(GUILD))] == ["Second"]
    assert [c.path.rsplit("/", 1)[-1] for c in world.dc.find("GET", "/cdn/attachments/")] == ["Second.png"]
