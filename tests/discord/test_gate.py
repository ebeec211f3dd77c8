"""Channel ratings and the image safety gate through the fake Discord: the channel's own NSFW flag, as Discord
sends it with the interaction, decides; a flagged result in an SFW channel is not posted (or is posted as
spoiler files, when the server chose that) and the admins' log records it."""

from __future__ import annotations

from typing import Any

from core.store.modlog import ModLog
from tests.discord.conftest import DiscordWorld, option, sub
from tests.discord.test_e2e import GUILD, custom_ids, follow_ups, save_character, with_files
from tests.fakes.discord_server import APP_ID
from tests.fakes.safety import FLAG_WORD

MANAGE_GUILD = str(1 << 5)


async def ask(w: DiscordWorld, prompt: str, **where: Any) -> dict[str, Any]:
    return await w.dc.slash("imagine", [option("prompt", prompt), option("character", "Luna")], **where)


async def final_status(w: DiscordWorld, token: str) -> str:
    def ended() -> list[str]:
        texts = [c.json["content"] for c in w.dc.find("PATCH", f"{token}/messages/@original")]
        return [t for t in texts if "Done" in t or "Not posted" in t]
    return (await w.until(ended, what="the final status"))[-1]


async def admin(w: DiscordWorld, *options: dict[str, Any], **where: Any) -> str:
    sent = await w.dc.slash("admin", [sub("rating", *options)], permissions=MANAGE_GUILD, user_id=555, **where)
    reply = await w.dc.wait_call("POST", f"/interactions/{sent['id']}/")
    if reply.json["type"] == 4:
        return reply.json["data"]["content"]
    return (await w.dc.wait_call("POST", f"/webhooks/{APP_ID}/{sent['token']}")).json["content"]


async def test_sfw_channel_gets_no_flagged_image_and_the_log_says_so(world: DiscordWorld) -> None:
    await save_character(world)
    sent = await ask(world, f"{FLAG_WORD} on a beach")
    status = await final_status(world, sent["token"])
    assert "Not posted" in status and "safe for work" in status and "Nothing was charged" in status
    assert with_files(follow_ups(world, sent["token"])) == []
    assert not any(c.files for c in world.dc.find("POST", "/channels/"))  # not by the channel route either
    [event] = await ModLog(world.app.store).events(scope_id=str(GUILD), kinds=("image_withheld", "image_spoilered"))
    assert event.kind == "image_withheld" and event.user_id == "111" and FLAG_WORD not in event.detail


async def test_nsfw_channel_gets_the_image(world: DiscordWorld) -> None:
    await save_character(world, nsfw=True)
    sent = await ask(world, f"{FLAG_WORD} on a beach", nsfw=True)
    assert "Done" in await final_status(world, sent["token"])
    [result] = with_files(follow_ups(world, sent["token"]))
    assert [name for name, _ in result.files] and not any(n.startswith("SPOILER_") for n, _ in result.files)
    assert await ModLog(world.app.store).events(scope_id=str(GUILD), kinds=("image_withheld", "image_spoilered")) == []


async def test_spoiler_choice_posts_spoiler_files(world: DiscordWorld) -> None:
    assert "posted as spoilers" in await admin(world, option("flagged", "spoiler"))
    await save_character(world)
    sent = await ask(world, f"{FLAG_WORD} on a beach")
    assert "Done" in await final_status(world, sent["token"])
    [result] = with_files(follow_ups(world, sent["token"]))
    assert all(name.startswith("SPOILER_") for name, _ in result.files)
    assert custom_ids(result)  # the usual buttons still come with it
    [event] = await ModLog(world.app.store).events(scope_id=str(GUILD), kinds=("image_withheld", "image_spoilered"))
    assert event.kind == "image_spoilered"


async def test_an_sfw_channel_cannot_be_rated_nsfw_from_castbot(world: DiscordWorld) -> None:
    refusal = await admin(world, option("rating", "nsfw"))
    assert "age-restricted" in refusal
    assert "Rating here: NSFW" in await admin(world, nsfw=True)  # the flag itself is enough
    assert "Rating set: SFW" in await admin(world, option("rating", "sfw"), nsfw=True)  # and can be narrowed
