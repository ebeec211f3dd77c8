"""`castbot run` as a real process: refusal without tokens, one instance per database, SIGTERM mid-job
and a restart that delivers it, health/metrics while running, and no secret in any of its output.

The Segmind simulator runs in the test process (not inside castbot), so it outlives the castbot process
exactly as Segmind would; Telegram is the fake Bot API server.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from bot.run import AlreadyRunning, InstanceLock
from core.simulator.server import SimConfig, Simulator
from tests.fakes.telegram import FakeTelegramServer

REPO = Path(__file__).resolve().parents[2]
ALICE = 4242
SEGMIND_KEY = "SG_e2e_secret_key_0123456789abcdef"
REAL_TIMEOUT = 40.0


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), "orange").save(buf, format="JPEG")
    return buf.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=cwd, env={**_clean_env(), "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _until(condition, what: str) -> None:
    deadline = time.monotonic() + REAL_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # polling a fake server that runs in this very loop


async def _stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> tuple[float, str]:
    started = time.monotonic()
    proc.send_signal(sig)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    return time.monotonic() - started, out.decode() + err.decode()


def test_refuses_clearly_without_a_platform_token(tmp_path):
    import subprocess

    env = {**_clean_env(), "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("castbot run: no platform token set. Set DISCORD_TOKEN and/or TELEGRAM_TOKEN")


def test_instance_lock_is_exclusive_and_names_the_holder(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    expected = f"another castbot is running on {db} \\(pid {os.getpid()}\\)"
    with InstanceLock(db), pytest.raises(AlreadyRunning, match=expected):
        InstanceLock(db).acquire()
    with InstanceLock(db) as again:  # released on exit: the next start gets it
        assert again.path == tmp_path / "castbot.sqlite3.lock"


async def test_sigterm_mid_job_then_restart_delivers_it(tmp_path):
    port = _free_port()
    async with Simulator(SimConfig(api_key=SEGMIND_KEY, median_seconds=8.0, cv=0.05)) as sim, \
            FakeTelegramServer() as tg:
        env = {
            "TELEGRAM_TOKEN": tg.token, "TELEGRAM_API_URL": tg.root,
            "SEGMIND_API_KEY": SEGMIND_KEY, "SEGMIND_API_URL": sim.url, "SEGMIND_UPLOAD_URL": sim.url,
            "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_HTTP_PORT": str(port),
            "CASTBOT_HTTP_HOST": "127.0.0.1", "CASTBOT_LOG_LEVEL": "DEBUG",
        }
        first = await _start(env, tmp_path)
        await _until(lambda: tg.calls_to("getUpdates"), "the first process to poll Telegram")

        second = await _start(env, tmp_path)
        _, second_err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 1
        assert f"another castbot is running on {tmp_path / 'data' / 'castbot.sqlite3'}" in second_err.decode()

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            health = await _health_when(http, lambda body: body.get("adapters"))
            tg.send_photo(ALICE, ALICE, _photo(), caption="/imagine on a beach")
            # Segmind's request id saved in the database: from here on the job is truly mid-flight.
            db = tmp_path / "data" / "castbot.sqlite3"
            await _until(lambda: _submitted_jobs(db), "castbot to save the submitted job's request id")
            scraped = (await http.get("/metrics")).text
        assert health.status_code == 200
        assert health.json()["adapters"] == {"telegram": True}
        families = {f.name for f in text_string_to_metric_families(scraped)}
        assert {"castbot_jobs", "castbot_queue_depth", "castbot_segmind_request_seconds"} <= families

        took, first_out = await _stop(first)
        assert first.returncode == 0, first_out
        assert took < 10.0
        assert not _delivered(tg)

        restarted = await _start(env, tmp_path)
        await _until(lambda: _delivered(tg), "the resumed job to be delivered")
        _, restarted_out = await _stop(restarted)
        assert restarted.returncode == 0, restarted_out

    assert len(sim.jobs) == 1  # resumed by polling the saved request id, never submitted twice
    assert len(tg.calls_to("sendPhoto", ALICE) + tg.calls_to("sendMediaGroup", ALICE)) == 1
    everything = first_out + second_err.decode() + restarted_out
    assert "resuming 1 unfinished job" in restarted_out
    for secret in (tg.token, SEGMIND_KEY, tg.token.split(":")[1]):
        assert secret not in everything


def _submitted_jobs(db: Path) -> int:
    """Jobs castbot has handed to Segmind and recorded so, read from its real SQLite file."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT count(*) FROM jobs WHERE remote_ref IS NOT NULL AND state IN ('submitted', 'running')"
        return conn.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # the schema is still being created
        return 0
    finally:
        conn.close()


def _delivered(tg: FakeTelegramServer) -> bool:
    return bool(tg.calls_to("sendPhoto", ALICE) or tg.calls_to("sendMediaGroup", ALICE)
                or tg.calls_to("sendDocument", ALICE))


async def test_a_rejected_token_stops_the_start_with_one_clear_line(tmp_path):
    bad = "777777:REJECTED-token-abcdefghijklmnop"
    async with FakeTelegramServer() as tg:
        env = {"TELEGRAM_TOKEN": bad, "TELEGRAM_API_URL": tg.root, "CASTBOT_DATA_DIR": str(tmp_path / "data")}
        with tg.expect_refusal("Unauthorized"):
            proc = await _start(env, tmp_path)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("castbot run: the telegram adapter could not start: ")
    assert last.endswith("(`castbot doctor` checks every token)")
    assert "Traceback" not in err.decode()
    assert bad not in out.decode() + err.decode()
    assert not tg.calls_to("getUpdates")


async def test_both_platforms_in_one_process(tmp_path):
    from tests.fakes.discord_server import FakeDiscord

    port = _free_port()
    discord = await FakeDiscord().start()
    try:
        async with FakeTelegramServer() as tg, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            env = {
                "TELEGRAM_TOKEN": tg.token, "TELEGRAM_API_URL": tg.root,
                "DISCORD_TOKEN": "discord-e2e-token-abcdef", "DISCORD_API_URL": discord.api_url,
                "DISCORD_GATEWAY_URL": discord.gateway_url,
                "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_HTTP_PORT": str(port),
                "CASTBOT_HTTP_HOST": "127.0.0.1",
            }
            proc = await _start(env, tmp_path)
            await _until(lambda: tg.calls_to("getUpdates") and discord.identifies, "both adapters to connect")
            health = await _health_when(http, lambda body: len(body.get("adapters", {})) == 2)
            took, output = await _stop(proc, signal.SIGINT)  # Ctrl-C stops as orderly as SIGTERM
    finally:
        await discord.close()
    assert health.json()["adapters"] == {"discord": True, "telegram": True}
    assert proc.returncode == 0, output
    assert took < 10.0
    assert "discord-e2e-token-abcdef" not in output and tg.token not in output
    discord.ledger.assert_clean()  # start-up (command sync included) asks nothing Discord would refuse


async def _health_when(http: httpx.AsyncClient, condition) -> httpx.Response:
    """/healthz once `condition(body)` holds (adapters report in as each finishes starting)."""
    deadline = time.monotonic() + REAL_TIMEOUT
    while True:
        response = await http.get("/healthz")
        if condition(response.json()) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)  # the process under test is separate; nothing to await but its answer
