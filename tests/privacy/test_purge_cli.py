"""`castbot purge` from the command line, against a data dir a running app has filled."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console.session import ConsoleSession
from tests.privacy.conftest import photos, walk_data

pytestmark = pytest.mark.timeout(180)
REPO = Path(__file__).resolve().parents[2]


def _purge(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "purge", *args], cwd=data, env=env,
                          capture_output=True, text=True, timeout=120)


async def test_purge_a_user_then_a_community(console, tmp_path: Path) -> None:
    a, b = photos(tmp_path)
    await console.line(f"/character save Adachar {a} --consent")
    await console.line("/imagine --char Adachar ada prompt at sea")
    console.session = ConsoleSession(console.app.service, console.session.messenger, user="bob", base_dir=tmp_path)
    await console.line(f"/character save Bobchar {b} --consent")
    await console.line("/imagine --char Bobchar bob prompt at sea")
    data = console.app.settings.data_dir
    assert walk_data(data, ("Adachar", "ada prompt")) and walk_data(data, ("Bobchar", "bob prompt"))

    bad = await asyncio.to_thread(_purge, data, "--user", "nocolon")
    user = await asyncio.to_thread(_purge, data, "--user", "console:ada")

    assert bad.returncode == 1 and "PLATFORM:ID" in bad.stderr
    assert user.returncode == 0, user.stderr
    assert user.stdout.startswith("purged console:ada: removed 1 character(s), 1 job(s)' prompts"), user.stdout
    assert walk_data(data, ("ada",)) == []
    assert walk_data(data, ("Bobchar", "bob prompt"))

    community = await asyncio.to_thread(_purge, data, "--community", "dm:bob")

    assert community.returncode == 0, community.stderr
    assert walk_data(data, ("Bobchar", "bob prompt")) == []
    assert not any((data / "characters").iterdir()) and not any((data / "outputs").iterdir())
