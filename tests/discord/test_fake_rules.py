"""The fake Discord refuses what the real API refuses, the way it refuses it — so the fake itself can fail.

Raw HTTP (httpx) and discord.py's own webhook client against the fake; each test names the rule's number.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import aiohttp
import discord
import httpx
import pytest

from adapters.discord.adapter import apply_endpoints
from tests.discord.conftest import TOKEN
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import APP_ID, FakeDiscord

COMMAND: dict[str, Any] = {
    "name": "imagine", "type": 1, "description": "draw something",
    "options": [{"type": 3, "name": "prompt", "description": "what to draw", "required": True},
                {"type": 3, "name": "model", "description": "which model",
                 "choices": [{"name": "poses", "value": "poses"}]}],
}


async def rest(dc: FakeDiscord, method: str, path: str, body: Any = None,
               files: list[tuple[str, bytes]] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with httpx.AsyncClient(base_url=dc.api_url) as http:
        if files is None:
            return await http.request(method, path, json=body, headers=headers)
        parts = {f"files[{i}]": (name, blob) for i, (name, blob) in enumerate(files)}
        return await http.request(method, path, data={"payload_json": json.dumps(body or {})}, files=parts,
                                  headers=headers)


def first_error(answer: httpx.Response, *path: str | int) -> str:
    node = answer.json()["errors"]
    for key in path:
        node = node[str(key)]
    return node["_errors"][0]["code"]


def command(**change: Any) -> dict[str, Any]:
    cmd = copy.deepcopy(COMMAND)
    cmd.update(change)
    return cmd


def option(i: int, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": 3, "name": f"o{i}", "description": "d", "required": required, **extra}


BAD_COMMANDS = [  # (what, command, error path under the command's index, Discord's error code)
    ("uppercase name", command(name="Imagine"), ("name",), "APPLICATION_COMMAND_INVALID_NAME"),
    ("space in name", command(name="my command"), ("name",), "APPLICATION_COMMAND_INVALID_NAME"),
    ("33-character name", command(name="a" * 33), ("name",), "APPLICATION_COMMAND_INVALID_NAME"),
    ("empty description", command(description=""), ("description",), "BASE_TYPE_BAD_LENGTH"),
    ("101-character description", command(description="d" * 101), ("description",), "BASE_TYPE_BAD_LENGTH"),
    ("26 options", command(options=[option(i) for i in range(26)]), ("options",), "BASE_TYPE_MAX_LENGTH"),
    ("required after optional", command(options=[option(0), option(1, required=True)]), ("options", 1),
     "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"),
    ("26 choices", command(options=[option(0, choices=[{"name": f"c{i}", "value": f"c{i}"} for i in range(26)])]),
     ("options", 0, "choices"), "BASE_TYPE_MAX_LENGTH"),
    ("autocomplete with choices",
     command(options=[option(0, autocomplete=True, choices=[{"name": "a", "value": "a"}])]),
     ("options", 0, "autocomplete"), "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID"),
    ("over 8000 characters", command(options=[option(i, description="d" * 100, choices=[
        {"name": "n" * 100, "value": f"{i}-{j}".ljust(100, "v")} for j in range(25)]) for i in range(2)]),
     (), "APPLICATION_COMMAND_TOO_LARGE"),
]


@pytest.mark.parametrize(("what", "cmd", "path", "code"), BAD_COMMANDS, ids=[b[0] for b in BAD_COMMANDS])
async def test_a_command_discord_would_refuse_is_refused(dc: FakeDiscord, what: str, cmd: dict[str, Any],
                                                          path: tuple[Any, ...], code: str) -> None:
    with dc.expect_refusal(50035):
        answer = await rest(dc, "PUT", f"/applications/{APP_ID}/commands", [COMMAND, cmd])
    assert answer.status_code == 400 and answer.json()["message"] == "Invalid Form Body"
    assert first_error(answer, 1, *path) == code, what
    assert dc.commands.get("global") is None  # nothing of a refused overwrite is kept


async def test_valid_commands_in_any_script_are_accepted(dc: FakeDiscord) -> None:
    names = ["imagine", "größe", "नमस्ते", "a-b_c'", "x" * 32]
    answer = await rest(dc, "PUT", f"/applications/{APP_ID}/commands", [command(name=n) for n in names])
    assert answer.status_code == 200 and [c["name"] for c in answer.json()] == names


def row(*ids: str) -> dict[str, Any]:
    return {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": i} for i in ids]}


BAD_MESSAGES = [  # (what, body, error path, code)
    ("2001 characters", {"content": "x" * 2001}, ("content",), "BASE_TYPE_MAX_LENGTH"),
    ("11 embeds", {"embeds": [{"title": "t"}] * 11}, ("embeds",), "BASE_TYPE_MAX_LENGTH"),
    ("6001 embed characters", {"embeds": [{"description": "d" * 3000}, {"description": "d" * 3001}]},
     ("embeds",), "MAX_EMBED_SIZE_EXCEEDED"),
    ("6 action rows", {"components": [row(f"r{i}") for i in range(6)]}, ("components",), "BASE_TYPE_BAD_LENGTH"),
    ("6 buttons in a row", {"components": [row(*(f"b{i}" for i in range(6)))]}, ("components", 0, "components"),
     "BASE_TYPE_BAD_LENGTH"),
    ("101-character custom_id", {"components": [row("c" * 101)]},
     ("components", 0, "components", 0, "custom_id"), "BASE_TYPE_BAD_LENGTH"),
    ("duplicate custom_id", {"components": [row("same", "same")]}, ("components",),
     "COMPONENT_CUSTOM_ID_DUPLICATED"),
    ("parse users and users", {"content": "<@1>", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
     ("allowed_mentions",), "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
]


@pytest.mark.parametrize(("what", "body", "path", "code"), BAD_MESSAGES, ids=[b[0] for b in BAD_MESSAGES])
async def test_a_message_discord_would_refuse_is_refused(dc: FakeDiscord, what: str, body: dict[str, Any],
                                                          path: tuple[Any, ...], code: str) -> None:
    with dc.expect_refusal(50035):
        answer = await rest(dc, "POST", "/channels/5/messages", body)
    assert answer.status_code == 400 and first_error(answer, *path) == code, what
    limits = {"content": "x" * 2000, "components": [row(*(f"r{i}-{j}" for j in range(5))) for i in range(5)],
              "embeds": [{"description": "d" * 3000}, {"description": "d" * 3000}]}
    assert (await rest(dc, "POST", "/channels/5/messages", limits)).status_code == 200  # the limits themselves


async def test_the_same_rules_hold_for_interaction_responses_through_discord_py(dc: FakeDiscord) -> None:
    apply_endpoints(dc.api_url, dc.gateway_url)
    payload = dc.interaction(2, {"name": "quota"})
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(APP_ID, payload["token"], session=session)
        with dc.expect_refusal(50035), pytest.raises(discord.HTTPException) as refused:
            await webhook.send("x" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    async with httpx.AsyncClient(base_url=dc.api_url) as http:
        with dc.expect_refusal(50035):
            answer = await http.post(f"/interactions/{payload['id']}/{payload['token']}/callback",
                                     json={"type": 4, "data": {"content": "x" * 2001}})
    assert first_error(answer, "data", "content") == "BASE_TYPE_MAX_LENGTH"


async def test_eleven_files_are_refused(dc: FakeDiscord) -> None:
    with dc.expect_refusal(50035):
        answer = await rest(dc, "POST", "/channels/5/messages", {}, files=[(f"{i}.png", b"x") for i in range(11)])
    assert first_error(answer, "attachments") == "BASE_TYPE_MAX_LENGTH"


async def test_uploads_over_the_interactions_limit_are_refused_with_413(dc: FakeDiscord) -> None:
    dc.attachment_size_limit = 1000
    payload = dc.interaction(2, {"name": "imagine"})
    assert payload["attachment_size_limit"] == 1000  # Discord tells the app its limit with each interaction
    follow_up = f"/webhooks/{APP_ID}/{payload['token']}"
    with dc.expect_refusal(40005):
        answer = await rest(dc, "POST", follow_up, {}, files=[("big.png", b"x" * 1001)])
    assert answer.status_code == 413 and answer.json() == {"message": "Request entity too large", "code": 40005}
    assert (await rest(dc, "POST", follow_up, {}, files=[("ok.png", b"x" * 1000)])).status_code == 200


async def test_a_request_over_25_mib_is_refused_even_when_each_file_fits(dc: FakeDiscord) -> None:
    nine_mib = b"x" * (9 * 1024 * 1024)
    with dc.expect_refusal(40005):
        answer = await rest(dc, "POST", "/channels/5/messages", {}, files=[("a", nine_mib)] * 3)
    assert answer.status_code == 413


async def test_an_interaction_is_answered_once_and_must_exist(dc: FakeDiscord) -> None:
    payload = dc.interaction(2, {"name": "quota"})
    callback = f"/interactions/{payload['id']}/{payload['token']}/callback"
    assert (await rest(dc, "POST", callback, {"type": 5})).status_code == 200
    with dc.expect_refusal(40060):
        again = await rest(dc, "POST", callback, {"type": 4, "data": {"content": "hi"}})
    assert again.status_code == 400 and again.json()["message"] == "Interaction has already been acknowledged."
    with dc.expect_refusal(10062):
        unknown = await rest(dc, "POST", f"/interactions/1234/{payload['token']}/callback", {"type": 5})
    assert unknown.status_code == 404 and unknown.json()["code"] == 10062


async def test_an_interaction_token_dies_after_15_minutes_on_the_fakes_clock(dc: FakeDiscord) -> None:
    clock = FakeClock()
    dc.clock = clock.now
    payload = dc.interaction(2, {"name": "imagine"})
    token = payload["token"]
    assert (await rest(dc, "POST", f"/interactions/{payload['id']}/{token}/callback", {"type": 5})).status_code == 200
    await clock.advance(15 * 60 - 1)
    assert (await rest(dc, "PATCH", f"/webhooks/{APP_ID}/{token}/messages/@original", {"content": "a"})).is_success
    await clock.advance(1)
    with dc.expect_refusal(50027):
        late = await rest(dc, "PATCH", f"/webhooks/{APP_ID}/{token}/messages/@original", {"content": "b"})
        late_follow_up = await rest(dc, "POST", f"/webhooks/{APP_ID}/{token}", {"content": "c"})
    assert late.status_code == late_follow_up.status_code == 401
    assert late.json() == {"message": "Invalid Webhook Token", "code": 50027}


async def test_an_injected_429_carries_retry_after_and_is_not_a_surprise(dc: FakeDiscord) -> None:
    dc.rate_limit("POST", "/channels/5/messages", retry_after=0.25)
    answer = await rest(dc, "POST", "/channels/5/messages", {"content": "hi"})
    assert answer.status_code == 429 and answer.json()["retry_after"] == 0.25
    assert answer.headers["Retry-After"] == "0.25" and answer.headers["X-RateLimit-Remaining"] == "0"
    assert dc.ledger.refusals[-1].injected and dc.unexpected() == []


async def test_what_would_ping_follows_allowed_mentions() -> None:
    fake = await FakeDiscord().start()  # its own fake: this test leaves stray pings on purpose
    try:
        text = "@everyone @here <@&5> <@7> <@!8>"
        await rest(fake, "POST", "/channels/9/messages", {"content": text})  # a regular message parses all
        await rest(fake, "POST", "/channels/9/messages", {"content": text, "allowed_mentions": {"parse": []}})
        await rest(fake, "POST", "/channels/9/messages",
                   {"content": text, "allowed_mentions": {"parse": ["everyone"], "users": ["7", "99"]}})
        payload = fake.interaction(2, {"name": "quota"}, user_id=7, channel_id=9)
        await rest(fake, "POST", f"/webhooks/{APP_ID}/{payload['token']}", {"content": text})  # users only
        everything, listed, webhook = fake.ledger.pings
        assert (everything.pings.everyone, everything.pings.here) == (True, True)
        assert everything.pings.roles == {"5"} and everything.pings.users == {"7", "8"}
        assert listed.pings.everyone and listed.pings.users == {"7"} and not listed.pings.roles
        assert not webhook.pings.everyone and webhook.pings.users == {"7", "8"}
        assert len(fake.ledger.pings) == 3  # the message that parses nothing notifies nobody
        assert len(fake.unexpected()) == 3  # user 8 never asked anything: pinging them is stray too
        stored = fake.messages[everything.message_id]
        assert stored["mention_everyone"] and stored["mention_roles"] == ["5"]
    finally:
        await fake.close()


async def test_an_unexpected_refusal_or_identical_edit_fails_the_ledger() -> None:
    fake = await FakeDiscord().start()
    try:
        await rest(fake, "POST", "/channels/5/messages", {"content": "x" * 2001})
        sent = (await rest(fake, "POST", "/channels/5/messages", {"content": "same"})).json()
        await rest(fake, "PATCH", f"/channels/5/messages/{sent['id']}", {"content": "same"})
        problems = fake.unexpected()
        assert len(problems) == 2
        assert "Discord refused POST /channels/5/messages: 400 50035" in problems[0]
        assert "identical edit" in problems[1]
        with pytest.raises(AssertionError, match="refuses or regrets"):
            fake.ledger.assert_clean()
    finally:
        await fake.close()


async def test_a_test_can_announce_the_pings_it_means(dc: FakeDiscord) -> None:
    with dc.expect_pings() as seen:
        await rest(dc, "POST", "/channels/5/messages", {"content": "@here lunch"})
    assert [p.pings.here for p in seen] == [True] and dc.unexpected() == []
