"""Save as character on a result whose face is no longer confirmed (its character was deleted) asks first."""

from __future__ import annotations

from core.types import Actor, Place
from tests.discord.conftest import DiscordWorld
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
