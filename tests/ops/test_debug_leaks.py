"""A DEBUG run of `castbot run` on both fakes, a character saved and a job delivered on each platform: its
whole output holds no bot token (nor Telegram's /file/bot<token>/ download path), interaction token,
Segmind key or storage URL (issue 14)."""

from __future__ import annotations

import base64
import signal

import pytest

from core.simulator.server import SimConfig, Simulator
from tests.discord.conftest import option, photo, sub
from tests.fakes.discord_server import APP_ID, FakeDiscord
from tests.fakes.telegram import FakeTelegramServer
from tests.ops.test_run import ALICE, _delivered, _free_port, _photo, _start, _stop, _until

pytestmark = pytest.mark.timeout(120)

SEGMIND_KEY = "SG_debug_leak_key_0123456789abcdef"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.debugleakdiscordtoken0123456789"


def interaction_token(n: int) -> str:
    """Shaped like Discord's: base64 of "interaction:<id>:<secret>"."""
    raw = f"interaction:{1300000000000000000 + n}:secretpart{n:04d}abcdefghijklmnopqrstuvwxyz".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_debug_run_leaks_no_token_key_or_storage_url(tmp_path) -> None:
    port = _free_port()
    save_token, imagine_token = interaction_token(1), interaction_token(2)
    discord = await FakeDiscord().start()
    try:
        async with Simulator(SimConfig(api_key=SEGMIND_KEY, median_seconds=1.0, cv=0.05)) as sim, \
                FakeTelegramServer() as tg:
            env = {
                "TELEGRAM_TOKEN": tg.token, "TELEGRAM_API_URL": tg.root,
                "DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": discord.api_url,
                "DISCORD_GATEWAY_URL": discord.gateway_url,
                "SEGMIND_API_KEY": SEGMIND_KEY, "SEGMIND_API_URL": sim.url, "SEGMIND_UPLOAD_URL": sim.url,
                "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_HTTP_PORT": str(port),
                "CASTBOT_HTTP_HOST": "127.0.0.1", "CASTBOT_LOG_LEVEL": "DEBUG",
            }
            proc = await _start(env, tmp_path)
            await _until(lambda: tg.calls_to("getUpdates") and discord.identifies, "both adapters to connect")

            att = discord.add_attachment(photo(), filename="luna.png")
            await discord.slash("character", [sub("save", option("name", "Luna"), option("image", att["id"], 11),
                                                  option("consent", True, 5))], attachments=[att], token=save_token)
            saved = await discord.wait_call("POST", f"/webhooks/{APP_ID}/{save_token}", within=30)
            assert "Luna" in saved.json["content"]
            await discord.slash("imagine", [option("prompt", "on a beach"), option("character", "Luna")],
                                token=imagine_token)
            await discord.wait_for(lambda: [c for c in discord.find("POST", f"/webhooks/{APP_ID}/{imagine_token}")
                                            if c.status == 200 and c.files], within=60)
            # Telegram downloads the photo through /file/bot<token>/ and delivers through /bot<token>/
            tg.send_photo(ALICE, ALICE, _photo(), caption="/character save Mia --consent")
            await _until(lambda: any("Mia" in str(m.get("text", "")) for m in tg.bot_messages(ALICE)),
                         "the Telegram save to be answered")
            tg.send_text(ALICE, ALICE, "/imagine --char Mia on a beach")
            await _until(lambda: _delivered(tg), "the Telegram job to be delivered")
            _, output = await _stop(proc, signal.SIGTERM)
    finally:
        await discord.close()

    assert proc.returncode == 0, output[-2000:]
    assert "DEBUG" in output  # it really ran at DEBUG
    secrets = {"telegram token": tg.token, "telegram token secret part": tg.token.split(":")[1],
               "discord token": DISCORD_TOKEN, "segmind key": SEGMIND_KEY,
               "save interaction token": save_token, "imagine interaction token": imagine_token,
               "storage URL": f"{sim.url}/files/", "telegram download path": f"/file/bot{tg.token}"}
    leaked = [what for what, secret in secrets.items() if secret in output]
    assert not leaked, leaked
