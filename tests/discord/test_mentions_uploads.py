"""castbot through the real discord.py client never pings anyone by accident and never uploads what
Discord would refuse: a prompt full of mentions stays text; files follow the interaction's own limit."""

from __future__ import annotations

from pathlib import Path

from tests.discord.conftest import DiscordWorld, option
from tests.discord.test_e2e import USER, custom_ids, delivered, imagine, save_character
from tests.fakes.discord_server import APP_ID

MASS_MENTION = "@everyone @here <@&123> <@456> a knight"


def bodies(w: DiscordWorld) -> list[dict]:
    """Every message body castbot sent with text: follow-ups, edits, interaction responses."""
    found = []
    for call in w.dc.calls:
        body = call.json if isinstance(call.json, dict) else {}
        body = body.get("data") or body if "type" in body else body
        if isinstance(body, dict) and body.get("content"):
            found.append(body)
    return found


async def test_a_mass_mention_prompt_pings_nobody(world: DiscordWorld) -> None:
    await save_character(world)
    sent = await imagine(world, option("prompt", MASS_MENTION), option("character", "Luna"))
    result = await delivered(world, sent["token"])
    await world.until(lambda: any("Done" in c.json["content"] for c in
                                  world.dc.find("PATCH", f"{sent['token']}/messages/@original")), what="final status")
    await world.until(lambda: world.adapter.messenger.idle, what="status edits flushed")
    shown = [b for b in bodies(world) if "@everyone" in b["content"]]
    assert len(shown) >= 3 and MASS_MENTION in result.json["content"]  # status edits and the result show it
    assert all(b["allowed_mentions"] == {"parse": []} for b in shown)
    assert world.dc.ledger.pings == []  # Discord would notify nobody at all
    assert not world.dc.messages[f"{sent['token']}:@original"]["mention_everyone"]


async def test_a_mass_mention_prompt_delivered_to_the_channel_pings_only_the_requester(world: DiscordWorld) -> None:
    await save_character(world)
    sent = await imagine(world, option("prompt", MASS_MENTION), option("character", "Luna"))
    world.dc.expire_token(sent["token"])
    [post] = await world.until(lambda: [c for c in world.dc.find("POST", "/channels/333/messages") if c.files],
                               what="channel delivery")
    assert MASS_MENTION in post.json["content"]
    [ping] = world.dc.ledger.pings
    assert ping.pings.users == {str(USER)} and not (ping.pings.everyone or ping.pings.here or ping.pings.roles)


async def test_a_small_upload_limit_makes_castbot_recompress_not_get_refused(world: DiscordWorld) -> None:
    limit = 3000
    world.dc.attachment_size_limit = limit  # a server whose interactions say so
    await save_character(world)
    sent = await imagine(world, option("character", "Luna"), option("count", 2, 4))
    result = await delivered(world, sent["token"])
    assert len(result.files) == 2
    assert all(len(blob) <= limit for _, blob in result.files)
    job = await world.app.service.job_view(custom_ids(result)[0].split(":")[2])
    too_big = sum(Path(p).stat().st_size > limit for p in job.outputs)
    assert too_big >= 1  # the limit mattered: something had to be re-encoded
    assert sum(name.endswith(".jpg") for name, _ in result.files) == too_big  # exactly those were
    assert all(c.status == 200 for c in world.dc.find("POST", f"/webhooks/{APP_ID}/{sent['token']}"))
