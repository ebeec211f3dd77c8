"""Flood benchmark: how long /quota in a private chat waits while one Telegram group is flooded.

    uv run python tests/bench/flood.py              # 100 /help from one user in one group
    uv run python tests/bench/flood.py --users 40 --each 5

The real app, the real PTB adapter and the strict fake Bot API (Telegram's flood limits), on a virtual clock
stepped 0.05 s at a time: figures are virtual seconds, so they do not depend on the machine. The baseline,
measured in the same run, is the same /quota on an idle bot. The script builds its world from parts every
version of castbot has, so it runs unchanged on an older checkout (the "before" figure).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.telegram.adapter import TelegramAdapter
from bot.app import build_app
from bot.settings import Settings
from core.simulator.server import SimConfig
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegramServer

GROUP, QUIET = -4001, 4100
STEP = 0.05  # virtual seconds per step
LIMIT = 900.0  # virtual seconds any one wait may take


async def until(clock: FakeClock, condition, what: str) -> float:
    start = clock.now()
    while not condition():
        if clock.now() - start > LIMIT:
            raise SystemExit(f"gave up waiting for {what} after {LIMIT:.0f} virtual s")
        await clock.advance(STEP)
        await asyncio.sleep(0.002)
    return clock.now() - start


async def run(users: int, each: int, burst: int | None) -> dict[str, float]:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, CASTBOT_DATA_DIR=Path(tmp), SEGMIND_API_KEY=None)  # type: ignore[call-arg]
        if burst is not None and "command_burst" in Settings.model_fields:
            settings = settings.model_copy(update={"command_burst": burst})
        async with FakeTelegramServer(clock=clock.now) as tg, build_app(
                settings, clock=clock, simulator_config=SimConfig(median_seconds=20.0)) as app:
            adapter = TelegramAdapter(app.service, token=tg.token, api_url=tg.root, clock=clock, poll_timeout=1.0)
            await adapter.start()
            try:
                answered = lambda: any("Units left" in str(c.params.get("text")) for c in  # noqa: E731
                                       tg.calls_to("sendMessage", QUIET))
                tg.send_text(QUIET, QUIET, "/quota")
                idle = await until(clock, answered, "/quota on an idle bot")
                tg.calls.clear()
                wall = time.perf_counter()
                for _ in range(each):
                    for user in range(users):
                        tg.send_text(GROUP, 5000 + user, "/help")
                # the next poll's offset acknowledges the flood: PTB holds every update of it
                fetched = await until(clock, lambda: not tg._updates, "the flood to be fetched")
                tg.send_text(QUIET, QUIET, "/quota")
                flooded = await until(clock, answered, "/quota during the flood")
                wall = time.perf_counter() - wall
                replies = len([c for c in tg.calls_to("sendMessage", GROUP) if c.status == 200])
            finally:
                stop = asyncio.ensure_future(adapter.stop())
                await until(clock, stop.done, "the adapter to stop")
    return {"idle": idle, "fetched": fetched, "flooded": flooded, "group replies by then": replies,
            "real seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1, help="people flooding the group")
    parser.add_argument("--each", type=int, default=100, help="/help commands each of them sends")
    parser.add_argument("--burst", type=int, help="CASTBOT_COMMAND_BURST (10000: no rate limit, the outbox alone)")
    args = parser.parse_args()
    figures = asyncio.run(run(args.users, args.each, args.burst))
    limit = "no command rate limit in this version" if "command_burst" not in Settings.model_fields else \
        f"command burst {args.burst or Settings.model_fields['command_burst'].default}"
    print(f"flood: {args.users} user(s) x {args.each} /help in one group; /quota in a private chat ({limit})")
    print(f"  /quota answered after {figures['idle']:.2f} virtual s on an idle bot (baseline)")
    print(f"  /quota answered after {figures['flooded']:.2f} virtual s during the flood "
          f"({figures['flooded'] / max(figures['idle'], STEP):.0f}x the baseline)")
    print(f"  (the flood took {figures['fetched']:.2f} virtual s to be fetched, before the /quota was sent)")
    print(f"  replies sent to the group by then: {figures['group replies by then']:.0f}; "
          f"real time {figures['real seconds']:.1f} s")


if __name__ == "__main__":
    main()
