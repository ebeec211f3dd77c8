"""`uv run python -m tests.chaos [--small] [--seed N] [--keep DIR]`: the chaos run; exit 1 on any violation."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.chaos.driver import ChaosRun, format_table
from tests.chaos.scenario import ChaosConfig

HARD_LIMIT_SECONDS = 600.0  # the 10-minute budget; the run is abandoned past it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--small", action="store_true", help="the short CI version")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep logs and database")
    args = parser.parse_args(argv)
    base = ChaosConfig.small() if args.small else ChaosConfig()
    config = ChaosConfig(**{**base.__dict__, "seed": args.seed})
    with tempfile.TemporaryDirectory(prefix="castbot-chaos-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            outcome = asyncio.run(asyncio.wait_for(ChaosRun(config, workdir).run(), HARD_LIMIT_SECONDS))
        except TimeoutError:
            print(f"chaos run abandoned after {HARD_LIMIT_SECONDS:.0f} s", file=sys.stderr)
            return 2
    print(format_table(outcome.rows))
    for line in outcome.violations:
        print(f"VIOLATION: {line}")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
