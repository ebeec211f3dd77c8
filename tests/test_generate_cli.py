"""`castbot generate` and `castbot simulate` as real subprocesses: files written, bad input is one clear line."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.simulator.server import SimConfig, Simulator

ASSETS = Path(__file__).resolve().parent.parent / "bot" / "assets"
FACE = str(ASSETS / "sample_character.png")
POSE = str(ASSETS / "sample_pose.png")
SCENE = str(ASSETS / "sample_scene.png")
PROCESS_TIMEOUT = 60


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMIND_", "CASTBOT_"))}
    env.update({"CASTBOT_SIM_SPEED": "1000", **extra})
    return env


def castbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # cwd is a temp dir, so a developer's .env never leaks in (Settings reads .env from cwd).
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=_env(**env), capture_output=True, text=True,
        timeout=PROCESS_TIMEOUT, check=False,
    )


def _outputs(result: subprocess.CompletedProcess[str], cwd: Path) -> list[Path]:
    return [cwd / line for line in result.stdout.splitlines() if line.strip()]


def test_generate_on_the_simulator_writes_the_images_and_says_so(tmp_path: Path):
    result = castbot("generate", "--model", "poses", "--image", FACE, "--prompt", "a knight", "--count", "2",
                     "--seed", "7", "--set", "format=png", "--out", "pics", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SIMULATOR" in result.stderr
    paths = _outputs(result, tmp_path)
    assert [p.name for p in paths] == ["poses-7-1.png", "poses-7-2.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert paths[0].read_bytes() != paths[1].read_bytes()
    again = castbot("generate", "--image", FACE, "--prompt", "a knight", "--count", "2", "--seed", "7",
                    "--set", "format=png", "--out", "pics", cwd=tmp_path)
    second = _outputs(again, tmp_path)
    assert second[0].name == "poses-7-1-1.png"  # an earlier picture is never overwritten
    assert second[0].read_bytes() == paths[0].read_bytes()  # same seed, same picture


@pytest.mark.parametrize(
    ("model", "extra", "suffix"),
    [
        ("scene", ["--scene", SCENE], ".png"),
        ("sheet", ["--prompt", "turnaround"], ".jpg"),
        ("pose", ["--pose", POSE, "--prompt", "dancing"], ".png"),
    ],
)
def test_generate_runs_workflow_and_v1_models(tmp_path: Path, model: str, extra: list[str], suffix: str):
    result = castbot("generate", "--model", model, "--image", FACE, *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (path,) = _outputs(result, tmp_path)
    assert path.suffix == suffix and path.stat().st_size > 0


BAD_INPUTS = [
    (["--model", "nope", "--image", FACE], "Unknown model"),
    (["--count", "25", "--image", FACE], "--count must be from 1 to 20"),
    (["--set", "quality=500", "--image", FACE], "--quality must be from 0 to 100"),
    (["--model", "scene", "--image", FACE], "needs a scene image"),
    (["--prompt", "x"], "--image is required"),
    (["--image", "missing.png"], "no such file: missing.png"),
    (["--image", "."], "is a folder"),
    (["--image", "notes.png"], "JPEG, PNG or WebP"),
    (["--image", "notes.png/face.png"], "cannot read notes.png/face.png: Not a directory"),
    (["--seed", "abc", "--image", FACE], "--seed must be a whole number"),
    (["--model", "sheet", "--image", FACE], "needs a prompt"),
    (["--image", FACE, "--out", "notes.png"], "--out notes.png is a file"),
    (["--image", FACE, "--set", "format"], "--set needs OPTION=VALUE"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], expected: str):
    (tmp_path / "notes.png").write_text("not a picture at all")
    result = castbot("generate", *args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "output").exists()


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero")
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_is_refused_at_once(tmp_path: Path, special: str):
    path = special
    if special == "fifo":
        os.mkfifo(tmp_path / "pipe.png")
        path = "pipe.png"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "generate", "--image", path], cwd=tmp_path,
                            env=_env(), capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"castbot: --image: {path} is not a regular file (a pipe, device or socket); " \
                                    "give the path of an image file", result.stderr


def test_a_file_over_the_cap_is_refused(tmp_path: Path):
    with open(tmp_path / "big.png", "wb") as fh:
        fh.truncate(30 * 1024 * 1024)  # sparse: costs no disk
    result = castbot("generate", "--image", "big.png", cwd=tmp_path)
    assert result.returncode == 2 and "big.png is over 20 MB" in result.stderr, result.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_one_clear_line(tmp_path: Path):
    locked = tmp_path / "locked.png"
    locked.write_bytes(Path(FACE).read_bytes())
    locked.chmod(0)
    result = castbot("generate", "--image", str(locked), cwd=tmp_path)
    assert result.returncode == 2 and "permission denied" in result.stderr


async def test_with_a_key_generate_talks_to_the_configured_segmind_and_hides_the_key(tmp_path: Path):
    secret = "sk-cli-secret-99"
    async with Simulator(SimConfig(api_key=secret, speed=1000)) as sim:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "generate", "--image", FACE, "--prompt", "hi", cwd=tmp_path,
            env=_env(SEGMIND_API_KEY=secret, SEGMIND_API_URL=sim.url, SEGMIND_UPLOAD_URL=sim.url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
    assert proc.returncode == 0, err
    assert b"REAL Segmind" in err and secret.encode() not in err + out
    assert len(sim.jobs) == 1 and sim.count("/upload-asset", "POST") == 1
    assert (tmp_path / out.decode().strip()).exists()


async def test_a_segmind_refusal_is_one_line_exit_1(tmp_path: Path):
    async with Simulator(SimConfig(speed=1000, failure_rate=1.0)) as sim:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "generate", "--image", FACE, cwd=tmp_path,
            env=_env(SEGMIND_API_KEY="sim-key", SEGMIND_API_URL=sim.url, SEGMIND_UPLOAD_URL=sim.url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
    assert proc.returncode == 1 and out == b""
    assert sim.jobs[0].failure.encode() in err and b"Traceback" not in err


async def test_simulate_serves_until_terminated(tmp_path: Path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "simulate", "--port", "0", "--api-key", "k2", cwd=tmp_path, env=_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), PROCESS_TIMEOUT)
        url = first.decode().split()[-1]
        async with httpx.AsyncClient() as http:
            wrong = await http.get(f"{url}/v2/requests/x/status", headers={"x-api-key": "nope"})
            right = await http.get(f"{url}/v2/requests/x/status", headers={"x-api-key": "k2"})
        assert (wrong.status_code, right.status_code) == (401, 404)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), PROCESS_TIMEOUT)
    assert proc.returncode == 0


def test_simulate_refuses_bad_rates_and_a_busy_port(tmp_path: Path):
    bad_rate = castbot("simulate", "--failure-rate", "2", cwd=tmp_path)
    assert bad_rate.returncode == 2 and "rates must be from 0 to 1" in bad_rate.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = castbot("simulate", "--port", str(busy.getsockname()[1]), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("castbot: cannot listen on 127.0.0.1:")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
