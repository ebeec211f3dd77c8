"""The Discord messenger against the fake Discord: coalescing, pacing, files, token expiry, 429."""

from __future__ import annotations

import io
import json
import os

from PIL import Image

from adapters.discord.context import ReplyRef
from adapters.discord.files import batches, fit, shrink
from adapters.discord.messenger import STATUS_INTERVAL, TOKEN_LIFETIME, DiscordMessenger
from core.types import JobState, JobView, OutputImage
from tests.discord.conftest import DiscordWorld, photo
from tests.fakes.discord_server import APP_ID

CHANNEL = 333
USER = 111


async def deferred_ref(w: DiscordWorld, token: str = "tok-1") -> str:
    """A status message as a deferred interaction leaves it, and its reply reference."""
    await w.dc.wait_for(lambda: True)
    w.dc.interaction(2, {"name": "imagine"}, user_id=USER, channel_id=CHANNEL, token=token)  # USER asked here
    w.dc.messages[f"{token}:@original"] = {"id": "5001", "content": "thinking"}
    return ReplyRef(APP_ID, token, CHANNEL, USER, w.clock.now()).dumps()


def view(state: JobState = JobState.RUNNING, progress: float = 0.0, **kw: object) -> JobView:
    return JobView(job_id="job1", state=state, model="poses", prompt="a knight", owner_id=str(USER),
                   progress=progress, seed=7, **kw)  # type: ignore[arg-type]


def images(n: int) -> list[OutputImage]:
    return [OutputImage(photo("red", 64), "image/png", f"out-{i}.png") for i in range(n)]


def edits(w: DiscordWorld, token: str = "tok-1") -> list[str]:
    return [c.json["content"] for c in w.dc.find("PATCH", f"/webhooks/{APP_ID}/{token}/messages/@original")]


async def test_status_edits_are_coalesced_and_paced_per_channel(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    await m.show(ref, view(progress=0.1))
    await bare.dc.wait_for(lambda: len(edits(bare)) == 1)
    for p in (0.2, 0.3, 0.4):  # arrive inside the pacing interval: only the newest is sent
        await m.show(ref, view(progress=p))
    await bare.until(lambda: len(edits(bare)) == 2, step=STATUS_INTERVAL / 3)
    await m.show(ref, view(progress=0.4))  # unchanged: nothing sent
    await bare.clock.advance(STATUS_INTERVAL * 2)
    await m.settle()
    texts = edits(bare)
    assert len(texts) == 2
    assert "10%" in texts[0] and "40%" in texts[1]
    _first, second = bare.dc.find("PATCH", "/messages/@original")
    assert second.json["components"][0]["components"][0]["custom_id"] == "cb:cancel:job1"


async def test_results_go_as_follow_ups_of_at_most_ten_files_with_buttons(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    await m.deliver(ref, view(JobState.COMPLETED), images(12))
    posts = bare.dc.find("POST", f"/webhooks/{APP_ID}/tok-1")
    assert [len(p.files) for p in posts] == [10, 2]
    assert posts[0].json.get("components") in (None, [])
    ids = [b["custom_id"] for b in posts[1].json["components"][0]["components"]]
    assert ids == ["cb:reroll:job1", "cb:seed:job1", "cb:save:job1", "cb:delete:job1", "cb:report:job1"]
    assert "seed 7" in posts[1].json["content"]
    await bare.until(lambda: any("Done" in t for t in edits(bare)), what="final status")
    assert not bare.dc.find("POST", f"/channels/{CHANNEL}/messages")


async def test_expired_token_delivers_to_the_channel_mentioning_the_user(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    bare.dc.expire_token("tok-1")
    await m.deliver(ref, view(JobState.COMPLETED), images(2))
    [post] = bare.dc.find("POST", f"/channels/{CHANNEL}/messages")
    assert post.json["content"].startswith(f"<@{USER}>")
    assert [str(u) for u in post.json["allowed_mentions"]["users"]] == [str(USER)]
    assert len(post.files) == 2 and post.json["components"]
    assert bare.dc.find("POST", "/webhooks/")[0].status == 404


async def test_old_job_skips_the_dead_token_entirely(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    await bare.clock.advance(TOKEN_LIFETIME + 1)
    await m.show(ref, view(progress=0.9))
    await m.settle()
    await m.deliver(ref, view(JobState.COMPLETED), images(1))
    assert not bare.dc.find("POST", "/webhooks/") and not bare.dc.find("PATCH", "/webhooks/")
    assert len(bare.dc.find("POST", f"/channels/{CHANNEL}/messages")) == 1


async def test_rate_limited_follow_up_is_retried_and_sent_once(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    bare.dc.rate_limit("POST", f"/webhooks/{APP_ID}/tok-1", times=1, retry_after=0.05)
    await m.deliver(ref, view(JobState.COMPLETED), images(1))
    statuses = [c.status for c in bare.dc.find("POST", f"/webhooks/{APP_ID}/tok-1")]
    assert statuses == [429, 200]


def test_oversized_output_is_recompressed_under_the_limit() -> None:
    noisy = Image.effect_noise((512, 512), 80).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, format="PNG")
    big = OutputImage(buf.getvalue(), "image/png", "big.png")
    small = shrink(big, limit=60_000)
    assert len(big.data) > 60_000 >= len(small.data)
    assert small.filename == "big.jpg" and small.mime == "image/jpeg"
    assert Image.open(io.BytesIO(small.data)).format == "JPEG"


def test_fitting_outputs_go_as_they_are_and_are_fitted_once() -> None:
    """A valid image within the limit is uploaded byte-identical (the same object: never decoded); an oversized one
    is re-encoded once, and what `fit` gave is final: fitting it again (the channel fallback) changes nothing."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buf, format="PNG")
    small = OutputImage(buf.getvalue(), "image/png", "small.png")
    noisy = io.BytesIO()
    Image.effect_noise((512, 512), 80).convert("RGB").save(noisy, format="PNG")
    big = OutputImage(noisy.getvalue(), "image/png", "big.png")
    fitted = fit([small, big], limit=60_000)
    assert fitted[0] is small
    assert fitted[1].mime == "image/jpeg" and len(fitted[1].data) <= 60_000
    again = fit(fitted, limit=60_000)
    assert again[0] is fitted[0] and again[1] is fitted[1]
    [files] = batches(fitted, limit=60_000)
    assert [f.fp.read() for f in files] == [small.data, fitted[1].data]


def test_reply_ref_round_trips_and_stays_small() -> None:
    ref = ReplyRef(APP_ID, "t" * 200, 1, 2, 3.5)
    assert ReplyRef.loads(ref.dumps()) == ref
    assert json.loads(ref.dumps())[0] == APP_ID


def test_channel_pacer_allows_a_burst_then_one_window_later() -> None:
    from adapters.discord.messenger import ChannelPacer
    from tests.fakes.clock import FakeClock

    pacer = ChannelPacer(FakeClock(start=100.0), burst=5, window=5.0)
    times = [pacer.reserve(1) for _ in range(7)]
    assert times == [100.0] * 5 + [105.0, 105.0]
    assert pacer.reserve(2) == 100.0  # another channel is not held up
    assert pacer.reserve(3, not_before=101.5) == 101.5


async def test_files_over_one_requests_25_mib_go_in_several_messages(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    nine_mib = [OutputImage(os.urandom(9 * 1024 * 1024), "image/png", f"big-{i}.png") for i in range(3)]
    await m.deliver(ref, view(JobState.COMPLETED), nine_mib)  # each fits 10 MiB, all three do not fit 25
    posts = bare.dc.find("POST", f"/webhooks/{APP_ID}/tok-1")
    assert [len(p.files) for p in posts] == [2, 1] and all(p.status == 200 for p in posts)
    assert sorted(blob for p in posts for _, blob in p.files) == sorted(i.data for i in nine_mib)  # unchanged


async def test_a_restarted_messenger_does_not_repeat_the_status_already_shown(bare: DiscordWorld) -> None:
    m, ref = bare.adapter.messenger, await deferred_ref(bare)
    await m.show(ref, view(JobState.COMPLETED))
    await bare.dc.wait_for(lambda: len(edits(bare)) == 1)
    await m.settle()
    remembered = bare.app.replies["job1"]  # what castbot stored with the job after the edit
    assert ReplyRef.loads(remembered).shown and ReplyRef.loads(remembered).token == "tok-1"
    restarted = DiscordMessenger(bare.adapter.client, clock=bare.clock, on_shown=bare.app.rebind_reply)
    await restarted.show(remembered, view(JobState.COMPLETED))  # the engine re-shows final statuses at start
    await restarted.settle()
    assert len(edits(bare)) == 1  # nothing new to show: no call (the fake also records identical edits)
    await restarted.show(remembered, view(JobState.FAILED, error="gone"))
    await restarted.settle()
    assert len(edits(bare)) == 2


async def test_a_token_discord_already_expired_sends_results_to_the_channel(bare: DiscordWorld) -> None:
    bare.dc.clock = bare.clock.now
    await deferred_ref(bare)  # Discord's 15 minutes start now...
    await bare.clock.advance(TOKEN_LIFETIME)
    ref = ReplyRef(APP_ID, "tok-1", CHANNEL, USER, bare.clock.now()).dumps()  # ...castbot's clock says "fresh"
    m = bare.adapter.messenger
    with bare.dc.expect_refusal(50027):
        await m.deliver(ref, view(JobState.COMPLETED), images(1))
    [post] = bare.dc.find("POST", f"/channels/{CHANNEL}/messages")
    assert post.files and post.json["allowed_mentions"] == {"parse": [], "users": [USER]}
    assert len(bare.dc.find("POST", "/webhooks/")) == 1  # the dead token is not tried again


async def test_each_interactions_upload_limit_is_used(bare: DiscordWorld) -> None:
    await deferred_ref(bare)
    ref = ReplyRef(APP_ID, "tok-1", CHANNEL, USER, bare.clock.now(), upload_limit=20_000).dumps()
    noisy = io.BytesIO()
    Image.effect_noise((256, 256), 80).convert("RGB").save(noisy, format="PNG")
    await bare.adapter.messenger.deliver(ref, view(JobState.COMPLETED), [OutputImage(noisy.getvalue(), "image/png",
                                                                                     "noise.png")])
    [post] = bare.dc.find("POST", f"/webhooks/{APP_ID}/tok-1")
    [(name, blob)] = post.files
    assert len(noisy.getvalue()) > 20_000 >= len(blob) and name == "noise.jpg"
