"""`castbot simulate`: serve the Segmind simulator on a local port, for trying castbot or other clients.

Point castbot at it with the three lines it prints; stop it with Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from core.simulator.server import SimConfig, Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SimConfig()
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8800, help="port to bind; 0 picks a free one")
    parser.add_argument("--api-key", default=defaults.api_key, help="the key clients must send")
    parser.add_argument("--speed", type=float, default=1.0, help="divide job durations by this")
    parser.add_argument("--median", type=float, default=defaults.median_seconds, help="median job seconds")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of jobs that FAIL (0-1)")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--server-error-rate", type=float, default=0.0, help="share of polls answered 5xx")
    parser.add_argument("--credits", type=float, default=None, help="credit balance (406 when spent)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same run")


def run(args: argparse.Namespace) -> int:
    rates = (args.failure_rate, args.rate_limit_rate, args.server_error_rate)
    if not all(0.0 <= r <= 1.0 for r in rates) or args.speed <= 0 or args.median <= 0:
        print("castbot: rates must be from 0 to 1, --speed and --median above 0", file=sys.stderr)
        return 2
    config = SimConfig(
        api_key=args.api_key, median_seconds=args.median, speed=args.speed, failure_rate=args.failure_rate,
        rate_limit_rate=args.rate_limit_rate, server_error_rate=args.server_error_rate,
        credits=args.credits, seed=args.seed,
    )
    try:
        asyncio.run(_serve(config, args.host, args.port))
    except OSError as exc:
        print(f"castbot: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(config: SimConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    sim = Simulator(config)
    await sim.start(host, port)
    try:
        print(f"Segmind simulator listening on {sim.url}", flush=True)
        print(f"  SEGMIND_API_URL={sim.url}\n  SEGMIND_UPLOAD_URL={sim.url}\n  SEGMIND_API_KEY={config.api_key}",
              flush=True)
        await stop.wait()
    finally:
        await sim.stop()
    print("simulator stopped", file=sys.stderr)
