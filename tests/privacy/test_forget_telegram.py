"""/forget_me end to end on Telegram (the real PTB application against the fake Bot API)."""

from __future__ import annotations

import pytest

from tests.privacy.conftest import walk_data
from tests.telegram.conftest import TelegramWorld, world  # noqa: F401  (the fixture)
from tests.telegram.helpers import photo

pytestmark = pytest.mark.timeout(120)
ALICE, BOB = 2001, 2002


async def test_forget_me_on_telegram_asks_then_removes_alice_but_not_bob(world: TelegramWorld) -> None:  # noqa: F811
    (commands,) = world.tg.calls_to("setMyCommands")
    assert "forget_me" in str(commands.params)  # the menu comes from core's table
    for user in (ALICE, BOB):
        world.tg.send_photo(user, user, photo("purple" if user == ALICE else "teal"),
                            caption=f"/character save Luna{user} --consent")
        await world.until(lambda user=user: any("Saved" in t for t in world.texts(user)), what="saved")
        world.tg.send_text(user, user, f"/imagine --char Luna{user} on a beach {user}")
        await world.until(lambda user=user: world.tg.calls_to("sendMediaGroup", user) or
                          world.tg.calls_to("sendPhoto", user), step=0.5, what="delivered")
    data = world.app.settings.data_dir
    alice = (str(ALICE), "Luna2001", "on a beach 2001")
    assert walk_data(data, alice)

    world.tg.send_text(ALICE, ALICE, "/forget_me")
    await world.until(lambda: any("/forget_me --confirm" in t for t in world.texts(ALICE)), what="preview")
    assert walk_data(data, ("Luna2001",))  # asking removed nothing
    world.tg.send_text(ALICE, ALICE, "/forget_me --confirm")
    await world.until(lambda: any(t.startswith("Forgotten.") for t in world.texts(ALICE)), what="forgotten")

    assert "Removed 1 character(s), the prompts and images of 1 job(s)" in world.texts(ALICE)[-1]
    kept = walk_data(data, alice)  # only today's charges, so forgetting can't refill the allowance
    assert kept and all(hit.startswith("ledger: ") for hit in kept), kept
    assert walk_data(data, ("Luna2002", "on a beach 2002"))  # Bob keeps everything
