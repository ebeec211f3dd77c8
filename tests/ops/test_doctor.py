"""`castbot doctor` against tiny fake identity servers on 127.0.0.1: one clear line per problem."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from aiohttp import web

from bot.doctor import check_database, check_limits, run_checks
from bot.settings import Settings
from core.store.schema import SCHEMA_VERSION

GOOD_TELEGRAM = "111111:GOOD-telegram-token-abcdefghijk"
BAD_TELEGRAM = "222222:BAD-telegram-token-zyxwvutsrqpo"
GOOD_DISCORD = "good.discord.token-xyz"
BAD_DISCORD = "bad.discord.token-uvw"
GOOD_KEY = "SG_good_segmind_key"
BAD_KEY = "SG_wrong_segmind_key"
SECRETS = (GOOD_TELEGRAM, BAD_TELEGRAM, GOOD_DISCORD, BAD_DISCORD, GOOD_KEY, BAD_KEY)
REPO = Path(__file__).resolve().parents[2]


async def _telegram_get_me(request: web.Request) -> web.Response:
    if request.match_info["token"] != GOOD_TELEGRAM:
        return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
    return web.json_response({"ok": True, "result": {"id": 111111, "is_bot": True, "username": "cast_test_bot"}})


async def _discord_me(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bot {GOOD_DISCORD}":
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
    return web.json_response({"id": "42", "username": "castbot-test", "bot": True})


async def _segmind_status(request: web.Request) -> web.Response:
    if request.headers.get("x-api-key") != GOOD_KEY:
        return web.json_response({"error": "Unauthorized"}, status=401)
    return web.json_response({"error": "request not found"}, status=404)


@pytest.fixture
async def identity_server():
    app = web.Application()
    app.router.add_get("/tg/bot{token}/getMe", _telegram_get_me)
    app.router.add_get("/discord/users/@me", _discord_me)
    app.router.add_get("/segmind/v2/requests/{rid}/status", _segmind_status)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _env(root: str, data_dir: Path, *, telegram: str, discord: str, key: str) -> dict[str, str]:
    return {
        "TELEGRAM_TOKEN": telegram, "TELEGRAM_API_URL": f"{root}/tg",
        "DISCORD_TOKEN": discord, "DISCORD_API_URL": f"{root}/discord",
        "SEGMIND_API_KEY": key, "SEGMIND_API_URL": f"{root}/segmind", "SEGMIND_UPLOAD_URL": f"{root}/segmind",
        "CASTBOT_DATA_DIR": str(data_dir),
    }


async def _run_doctor(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "doctor", cwd=cwd, env={**clean, "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode()


async def test_doctor_passes_with_good_tokens(identity_server, tmp_path):
    env = _env(identity_server, tmp_path / "data", telegram=GOOD_TELEGRAM, discord=GOOD_DISCORD, key=GOOD_KEY)
    code, out = await _run_doctor(env, tmp_path)
    assert code == 0, out
    assert "[ ok ] telegram  token accepted: @cast_test_bot" in out
    assert "[ ok ] discord   token accepted: castbot-test (id 42)" in out
    assert "[ ok ] segmind   API key accepted" in out
    assert "[ ok ] data dir" in out
    assert out.rstrip().endswith("all checks passed")


async def test_doctor_reports_each_problem_on_its_own_line_and_fails(identity_server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = _env(identity_server, blocker / "data", telegram=BAD_TELEGRAM, discord=BAD_DISCORD, key=BAD_KEY)
    code, out = await _run_doctor(env, tmp_path)

    assert code == 1
    lines = out.splitlines()
    assert "[fail] telegram  TELEGRAM_TOKEN rejected by Telegram (401); ask @BotFather for it" in lines
    assert any(line.startswith("[fail] discord   DISCORD_TOKEN rejected by Discord (401)") for line in lines)
    assert any(line.startswith("[fail] segmind   SEGMIND_API_KEY rejected by Segmind (401)") for line in lines)
    assert f"[fail] data dir  {blocker / 'data'} is not writable: Not a directory" in lines
    assert lines[-1] == "4 check(s) failed"
    for secret in SECRETS:
        assert secret not in out


async def test_unreachable_servers_are_reported_without_the_token(tmp_path):
    settings = Settings(
        TELEGRAM_TOKEN=GOOD_TELEGRAM, TELEGRAM_API_URL="http://127.0.0.1:9", DISCORD_TOKEN=None,
        SEGMIND_API_KEY=None, CASTBOT_DATA_DIR=tmp_path,
    )
    checks = {c.name: c for c in await run_checks(settings)}
    assert checks["telegram"].status == "fail"
    assert checks["telegram"].detail.startswith("cannot reach http://127.0.0.1:9: ConnectError")
    assert GOOD_TELEGRAM not in checks["telegram"].detail
    assert checks["discord"].status == "skip"
    assert checks["segmind"].status == "ok" and "simulator" in checks["segmind"].detail
    assert checks["database"].status == "ok" and "not created yet" in checks["database"].detail


def _db_at_version(path: Path, version: int) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return path


@pytest.mark.parametrize(
    ("version", "status", "words"),
    [
        (SCHEMA_VERSION, "ok", f"migrations current (version {SCHEMA_VERSION})"),
        (SCHEMA_VERSION - 1, "warn", f"the next start migrates it to {SCHEMA_VERSION}"),
        (SCHEMA_VERSION + 1, "fail", "newer than this castbot"),
    ],
)
def test_database_check_compares_schema_version(tmp_path, version, status, words):
    check = check_database(_db_at_version(tmp_path / "castbot.sqlite3", version))
    assert check.status == status
    assert words in check.detail


def test_database_check_rejects_a_file_that_is_not_sqlite(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    db.write_bytes(b"garbage" * 1000)
    broken = check_database(db)
    assert broken.status == "fail"
    assert "cannot be read: file is not a database" in broken.detail


def test_settings_errors_are_one_line_each(tmp_path):
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_SIM_SPEED": "-3", "CASTBOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.strip() == "[fail] settings  CASTBOT_SIM_SPEED: Input should be greater than 0"


def test_limits_check_summarises_the_operator_limits_and_fails_on_a_malformed_id(tmp_path):
    base = {"_env_file": None, "CASTBOT_DATA_DIR": tmp_path}
    assert check_limits(Settings(**base)).line().endswith("none set: fine for a private bot (a public one: "
                                                          "docs/operators.md)")
    public = check_limits(Settings(**base, CASTBOT_PERSON_DAILY_UNITS=40, CASTBOT_DAILY_SPEND_CEILING=2000,
                                   CASTBOT_ALLOWED_PLACES="telegram:-100,discord:5", CASTBOT_OPERATORS="telegram:1"))
    assert (public.status, public.detail) == ("ok", "per person 40/24 h; spend ceiling 2000/24 h; "
                                              "2 allowed place(s), DMs on; 1 operator id(s)")
    bad = check_limits(Settings(**base, CASTBOT_OPERATORS="telegram:1, slack:2"))
    assert (bad.status, bad.detail) == ("fail", "CASTBOT_OPERATORS: 'slack:2' is not platform:id "
                                                "(e.g. telegram:123, discord:456).")
