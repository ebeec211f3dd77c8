"""`castbot run` killed with SIGKILL mid-job, against the fake Discord: the job is delivered once after the
restart, buttons sent before the kill still work, and the unchanged command set is not synced again."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from core.simulator.server import SimConfig, Simulator
from tests.discord.conftest import TOKEN, option, photo, sub
from tests.fakes.discord_server import APP_ID, Call, FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 40.0  # real seconds for any one step; a job takes about two at this simulator speed


def job_row(db: Path, idem_key: str) -> tuple[str, str] | None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute("SELECT job_id, state FROM jobs WHERE idem_key = ?", (idem_key,)).fetchone()


def result_posts(dc: FakeDiscord, token: str) -> list[Call]:
    return [c for c in dc.find("POST", f"/webhooks/{APP_ID}/{token}") if c.files and c.status == 200]


async def start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL)


async def generate(dc: FakeDiscord, command: str) -> dict[str, Any]:
    return await dc.slash(command, [option("prompt", "on a beach"), option("character", "Luna")])


async def test_sigkill_mid_job_then_restart_delivers_once_and_old_buttons_work(
    tmp_path: Path, dc: FakeDiscord,
) -> None:
    async with Simulator(SimConfig(speed=30.0, seed=5)) as sim:
        env = {**os.environ, "DISCORD_TOKEN": TOKEN, "DISCORD_API_URL": dc.api_url,
               "DISCORD_GATEWAY_URL": dc.gateway_url, "CASTBOT_DATA_DIR": str(tmp_path),
               "SEGMIND_API_KEY": sim.config.api_key, "SEGMIND_API_URL": sim.url, "SEGMIND_UPLOAD_URL": sim.url,
               "CASTBOT_LOG_LEVEL": "WARNING", "TELEGRAM_TOKEN": ""}
        first = await start_bot(env)
        try:
            await dc.wait_for(lambda: dc.identifies == 1, within=WITHIN)
            att = dc.add_attachment(photo(), filename="luna.png")
            saved = await dc.slash("character", [sub("save", option("name", "Luna"), option("image", att["id"], 11),
                                                     option("consent", True, 5))], attachments=[att])
            await dc.wait_call("POST", f"/webhooks/{APP_ID}/{saved['token']}", within=WITHIN)
            # delivered by the first process, so its buttons are "old"; /sheet is a sync (v1) call: no polling
            before = await generate(dc, "sheet")
            [old_result] = await dc.wait_for(lambda: result_posts(dc, before["token"]), within=WITHIN)
            victim = await generate(dc, "imagine")
            await dc.wait_for(lambda: any("Generating" in c.json["content"] for c in
                                          dc.find("PATCH", f"{victim['token']}/messages/@original")), within=WITHIN)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        db = tmp_path / "castbot.sqlite3"
        assert job_row(db, f"discord:{victim['id']}")[1] in ("submitted", "running")  # type: ignore[index]
        assert not result_posts(dc, victim["token"])

        second = await start_bot(env)
        try:
            await dc.wait_for(lambda: dc.identifies == 2, within=WITHIN)
            await dc.wait_for(lambda: result_posts(dc, victim["token"]), within=WITHIN)
            reroll = old_result.json["components"][0]["components"][0]["custom_id"]
            message_id = next(k for k, m in dc.messages.items() if reroll in str(m["components"]) and k.isdigit())
            press = await dc.press(reroll, message_id)
            callback = await dc.wait_call("POST", f"/interactions/{press['id']}/", within=WITHIN)
            assert callback.json["type"] == 5
            await dc.wait_for(lambda: job_row(db, f"discord:{press['id']}"), within=WITHIN)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=WITHIN)
        assert len(result_posts(dc, victim["token"])) == 1
        assert job_row(db, f"discord:{victim['id']}")[1] == "delivered"  # type: ignore[index]
        assert len(dc.find("PUT", "/commands")) == 1  # same command set: the restart did not sync
