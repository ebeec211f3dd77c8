"""`castbot run` killed with SIGKILL mid-job and started again: the status resumes, images arrive once;
killed again after the job finished and started again: no edit repeats what the status already shows.

The real process (PTB application, engine, SQLite file) runs against the fake Bot API and a Segmind
simulator served from this test, so the simulator outlives the killed bot, as Segmind would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

from adapters.telegram.statusref import StatusRef, shown_digest
from core.simulator.server import SimConfig, Simulator
from tests.fakes.telegram import FakeTelegramServer
from tests.telegram.helpers import photo

REPO = Path(__file__).resolve().parents[2]
ALICE = 5151
SEGMIND_KEY = "SG_restart_secret_key_0123456789"
REAL_TIMEOUT = 40.0


def _env(tg: FakeTelegramServer, sim: Simulator, data_dir: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    return {**keep, "PYTHONPATH": str(REPO), "TELEGRAM_TOKEN": tg.token, "TELEGRAM_API_URL": tg.root,
            "SEGMIND_API_KEY": SEGMIND_KEY, "SEGMIND_API_URL": sim.url, "SEGMIND_UPLOAD_URL": sim.url,
            "CASTBOT_DATA_DIR": str(data_dir), "CASTBOT_LOG_LEVEL": "INFO"}


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=cwd, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _until(condition, what: str) -> None:
    deadline = time.monotonic() + REAL_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # the fake server and simulator run in this loop; let them answer


def _in_flight(db: Path) -> bool:
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT count(*) FROM jobs WHERE remote_ref IS NOT NULL AND state IN ('submitted', 'running')"
        return conn.execute(query).fetchone()[0] > 0
    except sqlite3.OperationalError:  # schema not created yet
        return False
    finally:
        conn.close()


def _shown_digest(db: Path) -> str | None:
    """The digest of what the job's status message shows, as castbot recorded it in the reply reference."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        (raw,) = conn.execute("SELECT reply_ref FROM jobs").fetchone()
    finally:
        conn.close()
    return StatusRef.decode(raw).shown


def _last_edit_digest(tg: FakeTelegramServer) -> str:
    (*_, last) = [c for c in tg.calls_to("editMessageText", ALICE) if c.status == 200]
    assert not last.params.get("reply_markup"), "a final status has no buttons"
    return shown_digest(str(last.params["text"]), None)


def _deliveries(tg: FakeTelegramServer) -> list:
    return [c for c in tg.calls_to("sendPhoto", ALICE) + tg.calls_to("sendMediaGroup", ALICE) if c.status == 200]


async def test_sigkill_mid_job_then_restart_resumes_the_status_and_delivers_once(tmp_path: Path) -> None:
    async with Simulator(SimConfig(api_key=SEGMIND_KEY, median_seconds=6.0, cv=0.05)) as sim, \
            FakeTelegramServer() as tg:
        env = _env(tg, sim, tmp_path / "data")
        db = tmp_path / "data" / "castbot.sqlite3"
        first = await _start(env, tmp_path)
        try:
            await _until(lambda: tg.calls_to("getUpdates"), "the bot to poll")
            tg.send_photo(ALICE, ALICE, photo(), caption="/imagine on a beach")
            await _until(lambda: _in_flight(tmp_path / "data" / "castbot.sqlite3"), "the job to be at Segmind")
        finally:
            first.send_signal(signal.SIGKILL)
            first_out = b"".join(await asyncio.wait_for(first.communicate(), 15)).decode()
        assert not _deliveries(tg)
        (status,) = [m for m in tg.bot_messages(ALICE) if "text" in m]
        edits_before = len(tg.calls_to("editMessageText", ALICE))

        second = await _start(env, tmp_path)
        try:
            await _until(lambda: _deliveries(tg), "the resumed job's images")
            await _until(lambda: "Done" in tg.messages[(ALICE, status["message_id"])]["text"], "status says done")
            # the final status is on record (its digest in the stored reply reference) before the next kill
            await _until(lambda: _shown_digest(db) == _last_edit_digest(tg), "the final status to be recorded")
        finally:
            second.send_signal(signal.SIGKILL)
            second_out = b"".join(await asyncio.wait_for(second.communicate(), 15)).decode()
        later = tg.calls_to("editMessageText", ALICE)[edits_before:]
        edits_before_third = len(tg.calls_to("editMessageText", ALICE))
        polls = len(tg.calls_to("getUpdates"))

        # Started again within the re-show window, castbot re-shows recently finished statuses — which
        # must not mean an edit to the content the message already shows (Telegram: "not modified").
        third = await _start(env, tmp_path)
        try:
            await _until(lambda: len(tg.calls_to("getUpdates")) > polls, "the third process to poll")
            tg.send_text(ALICE, ALICE, "/quota")
            await _until(lambda: any("Units left" in str(c.params.get("text")) for c in tg.calls_to(
                "sendMessage", ALICE)), "the answer to /quota, which queues behind any re-show in that chat")
        finally:
            third.send_signal(signal.SIGTERM)
            third_out = b"".join(await asyncio.wait_for(third.communicate(), 20)).decode()

    assert third.returncode == 0, third_out
    assert len(sim.jobs) == 1, "resumed from the saved request id, never submitted twice"
    assert len(_deliveries(tg)) == 1, "images arrive once"
    assert later and all(int(c.params["message_id"]) == status["message_id"] for c in later)
    assert tg.calls_to("editMessageText", ALICE)[edits_before_third:] == [], "the status already said that"
    assert not [r for r in tg.refusals if "not modified" in r.description]
    for secret in (tg.token, tg.token.split(":")[1], SEGMIND_KEY):
        assert secret not in first_out + second_out + third_out
