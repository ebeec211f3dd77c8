"""`castbot doctor`: one line per check — settings, platform tokens, Segmind key, data dir, database, disk.

Every check spends nothing: platform tokens are tested with identity calls (Telegram getMe, Discord
GET /users/@me), the Segmind key with a status request for a made-up id (see SegmindClient.check_key).
Exit code 0 when nothing failed; warnings (say, low disk space) do not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import ValidationError

from bot.app import operator_limits
from bot.settings import Settings
from core.errors import InvalidParameter
from core.moderation import opennsfw
from core.segmind.client import SegmindClient
from core.segmind.errors import SegmindError
from core.store.schema import SCHEMA_VERSION

IDENTITY_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DISK_FAIL_BYTES = 100 * 1024**2  # below this, SQLite writes and image files start failing
DISK_WARN_BYTES = 1024**3


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail" | "skip"
    detail: str

    def line(self) -> str:
        return f"[{self.status:^4}] {self.name:<9} {self.detail}"


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, "fail", detail)


def _network_problem(exc: Exception, secret: str) -> str:
    # httpx messages may quote the URL; a Telegram URL carries the token, so scrub before showing.
    text = f"{type(exc).__name__}: {exc}".replace(secret, "***")
    return text[:200]


async def check_telegram(settings: Settings, http: httpx.AsyncClient) -> Check:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        return Check("telegram", "skip", "TELEGRAM_TOKEN not set")
    token = settings.telegram_token.get_secret_value()
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{token}/getMe"
    try:
        resp = await http.get(url)
    except httpx.HTTPError as exc:
        return _fail("telegram", f"cannot reach {settings.telegram_api_url}: {_network_problem(exc, token)}")
    if resp.status_code in (401, 404):
        return _fail("telegram", f"TELEGRAM_TOKEN rejected by Telegram ({resp.status_code}); ask @BotFather for it")
    if resp.status_code != 200:
        return _fail("telegram", f"getMe answered HTTP {resp.status_code}")
    user = resp.json().get("result") or {}
    return _ok("telegram", f"token accepted: @{user.get('username', '?')}")


async def check_discord(settings: Settings, http: httpx.AsyncClient) -> Check:
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        return Check("discord", "skip", "DISCORD_TOKEN not set")
    token = settings.discord_token.get_secret_value()
    url = f"{settings.discord_api_url.rstrip('/')}/users/@me"
    try:
        resp = await http.get(url, headers={"Authorization": f"Bot {token}"})
    except httpx.HTTPError as exc:
        return _fail("discord", f"cannot reach {settings.discord_api_url}: {_network_problem(exc, token)}")
    if resp.status_code == 401:
        return _fail("discord", "DISCORD_TOKEN rejected by Discord (401); reset it under Bot in the developer portal")
    if resp.status_code != 200:
        return _fail("discord", f"GET /users/@me answered HTTP {resp.status_code}")
    user = resp.json()
    return _ok("discord", f"token accepted: {user.get('username', '?')} (id {user.get('id', '?')})")


async def check_segmind(settings: Settings, http: httpx.AsyncClient) -> Check:
    if settings.uses_simulator or settings.segmind_api_key is None:
        return _ok("segmind", "SEGMIND_API_KEY not set: the built-in simulator will answer instead")
    key = settings.segmind_api_key.get_secret_value()
    client = SegmindClient(
        api_key=key, api_url=settings.segmind_api_url, upload_url=settings.segmind_upload_url,
        http=http, max_attempts=1,
    )
    try:
        accepted = await client.check_key()
    except SegmindError as exc:
        return _fail("segmind", f"cannot check the key at {settings.segmind_api_url}: {_network_problem(exc, key)}")
    if not accepted:
        return _fail("segmind", "SEGMIND_API_KEY rejected by Segmind (401); copy it again from segmind.com")
    return _ok("segmind", "API key accepted (no credits spent)")


def check_data_dir(data_dir: Path) -> Check:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"castbot")
        probe.unlink()
    except OSError as exc:
        return _fail("data dir", f"{data_dir} is not writable: {exc.strerror or exc}")
    return _ok("data dir", f"{data_dir.resolve()} is writable")


def check_database(db_path: Path) -> Check:
    if not db_path.exists():
        return _ok("database", f"{db_path} not created yet; the first start creates it")
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return _fail("database", f"{db_path} cannot be read: {exc}")
    expected = SCHEMA_VERSION
    if current > expected:
        return _fail("database", f"schema version {current} is newer than this castbot ({expected}); upgrade castbot")
    if current < expected:
        return Check("database", "warn", f"schema version {current}; the next start migrates it to {expected}")
    return _ok("database", f"{db_path} readable, migrations current (version {current})")


def check_safety(settings: Settings) -> Check:
    """Whether outputs in SFW places are classified before posting; loads the model once to be sure it runs."""
    try:
        classifier = opennsfw.load(settings.safety_classifier)
    except Exception as exc:  # installed but broken (a missing native library): say so, don't crash doctor
        return _fail("safety", f"image safety gate OFF: the classifier failed to load ({type(exc).__name__}: "
                               f"{str(exc)[:120]})")
    if not classifier.active:
        status = "fail" if settings.safety_classifier == opennsfw.NAME else "warn"
        return Check("safety", status, f"image safety gate OFF: {getattr(classifier, 'reason', 'no classifier')}; "
                                       "SFW places still get the safety negative prompt")
    refund = "refunded" if settings.safety_refund else "charged"
    return _ok("safety", f"image safety gate ON: {classifier.name}, flags at {settings.safety_threshold:.2f}, "
                         f"withheld jobs {refund}")


def check_disk(data_dir: Path) -> Check:
    existing = next((p for p in (data_dir, *data_dir.parents) if p.is_dir()), Path("."))
    free = shutil.disk_usage(existing).free
    detail = f"{free / 1024**3:.1f} GiB free under {existing}"
    if free < DISK_FAIL_BYTES:
        return _fail("disk", detail)
    return Check("disk", "warn" if free < DISK_WARN_BYTES else "ok", detail)


async def run_checks(settings: Settings, *, http: httpx.AsyncClient | None = None) -> list[Check]:
    # A caller-owned client is borrowed, not closed (nullcontext); otherwise one is made for the run.
    async with httpx.AsyncClient(timeout=IDENTITY_TIMEOUT) if http is None else nullcontext(http) as client:
        remote: list[Callable[[Settings, httpx.AsyncClient], Awaitable[Check]]] = [
            check_telegram, check_discord, check_segmind,
        ]
        checks = list(await asyncio.gather(*(check(settings, client) for check in remote)))
    checks[:0] = [_ok("settings", _settings_summary(settings)), check_limits(settings)]
    if all(c.status == "skip" for c in checks if c.name in ("telegram", "discord")):
        checks.append(Check("platforms", "warn", "no platform token: `castbot run` will refuse to start "
                                                  "(`castbot console` works without one)"))
    data = check_data_dir(settings.data_dir)
    checks.append(data)
    if data.status == "ok":
        checks.append(check_database(settings.db_path))
    checks.append(check_disk(settings.data_dir))
    checks.append(await asyncio.to_thread(check_safety, settings))
    return checks


def check_limits(settings: Settings) -> Check:
    """The operator's limits parse, and what they are (docs/operators.md)."""
    try:
        limits = operator_limits(settings)
    except InvalidParameter as exc:
        return _fail("limits", str(exc))
    numbers = (("per person", limits.person_daily_units), ("spend ceiling", limits.daily_spend_ceiling),
               ("community max", limits.max_community_daily_units), ("pool max", limits.max_community_pool_units))
    parts = [f"{label} {value}/24 h" for label, value in numbers if value is not None]
    if limits.allowed_places is not None:
        parts.append(f"{len(limits.allowed_places)} allowed place(s), DMs {'on' if limits.allow_dms else 'off'}")
    if limits.operators:
        parts.append(f"{len(limits.operators)} operator id(s)")
    return _ok("limits", "; ".join(parts) or "none set: fine for a private bot (a public one: docs/operators.md)")


def _settings_summary(settings: Settings) -> str:
    platforms = [name for name, tok in (("discord", settings.discord_token), ("telegram", settings.telegram_token))
                 if tok is not None and tok.get_secret_value()]
    segmind = "simulator" if settings.uses_simulator else "Segmind"
    return f"loaded; platforms: {', '.join(platforms) or 'none'}; images from {segmind}; data in {settings.data_dir}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Doctor takes no options: everything comes from the environment and `.env`, as for `castbot run`."""


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            print(f"[fail] settings  {where}: {error['msg']}")
        return 1
    checks = asyncio.run(run_checks(settings))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.status == "fail"]
    print(f"{len(failed)} check(s) failed" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace()))
