"""`castbot console` driven through a pipe, as a script would: the real CLI process on the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot.console import SAMPLE_CHARACTER

REPO = Path(__file__).resolve().parents[2]
SCRIPT = f"""\
# comments and blank lines are skipped

/character save Luna "{SAMPLE_CHARACTER}" --consent a girl with silver hair
/imagine --char Luna on a beach --n 4
/quota
/history
"""


def test_piped_session_saves_generates_four_and_reports(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_SIM_SPEED": "600"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--out", str(tmp_path / "images")],
                          input=SCRIPT, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("No SEGMIND_API_KEY set: the built-in simulator")
    assert "saved character Luna: use it with /imagine --char Luna ..." in lines
    paths = [Path(line.strip()) for line in lines if line.startswith("  /")]
    assert len(paths) == 4
    for path in paths:
        assert path.parent == tmp_path / "images"
        with Image.open(path) as image:
            image.verify()
    assert "quota: 36 unit(s) left; used today 4 of 40 a day; held 0" in lines
    history = lines[lines.index("history (1):") + 1]
    assert " poses done, 4 image(s), cost 4 “on a beach”" in history
    assert "Traceback" not in done.stderr and "error" not in done.stdout


def test_a_new_session_does_not_reprint_old_jobs(tmp_path):
    """A chat platform needs old final statuses re-shown after a crash; a fresh console session does not."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    env = {**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(tmp_path / "data"), "CASTBOT_SIM_SPEED": "600"}
    run = [sys.executable, "-m", "bot.cli", "console", "--out", str(tmp_path / "images")]
    first = subprocess.run(run, input=SCRIPT, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    assert first.returncode == 0 and any(line.startswith("job ") for line in first.stdout.splitlines())

    again = subprocess.run(run, input="/quota\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    assert again.returncode == 0, again.stderr
    assert [line for line in again.stdout.splitlines() if line.startswith("job ")] == []
    assert "quota: 36 unit(s) left" in again.stdout
