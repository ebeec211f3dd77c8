"""Burst benchmark: how soon each of N commands sent at once gets its first answer, per platform.

    uv run python tests/bench/burst.py                      # 100 × /quota on every platform
    uv run python tests/bench/burst.py --n 100 --text "/imagine on a beach" --only telegram
    uv run python tests/bench/burst.py --burst 5            # with the default per-person rate limit instead

The real app, the real adapters (discord.py, python-telegram-bot) against the strict fakes on 127.0.0.1:

- Discord: N INTERACTION_CREATE dispatches at once (N people in DMs, then N people in one guild channel);
  a figure is the real time from the fake's dispatch to the defer callback POST reaching it. Discord puts
  no limit on interaction callbacks, so the platform bound is 0 and the target is p99 < 100 ms.
- Telegram, N private chats: N updates made available to getUpdates at once; a figure is the real time to
  the first accepted sendMessage in that chat. Everything (bot, pacer, fake) runs on the real clock.
- Telegram, one group: the same N commands in one group. Telegram allows 20 messages a minute there, so
  the answers take minutes: this variant runs on a virtual clock stepped 0.05 s at a time (bot work is real
  but costs no virtual time) and its figures are VIRTUAL seconds — they measure pacing, not the machine.
- console: N lines available at once to one session; real time to each line's first output.

Real-time variants run --repeat times (3) and show the run with the best p99, each run's p99 beside it: on
a shared machine other processes only ever add time. Discord also shows the CPU the whole process (bot and
fake, one event loop) spent per command, a figure the machine's load changes less.

The Telegram bound is the earliest the fake's own flood limits (tests/fakes/telegram/flood.py: ~30
messages/s per bot as a bucket of 30, 20 per sliding minute per group, 1/s per private chat) would
accept the k-th answer, answers sent in arrival order. The per-person command rate limit is lifted
(CASTBOT_COMMAND_BURST=10000) unless --burst says otherwise: N different people never share it anyway,
but the console's one person would.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.remove(str(Path(__file__).resolve().parent))  # this folder's queue.py would shadow the stdlib's queue
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleSession
from adapters.discord.adapter import DiscordAdapter
from adapters.telegram.adapter import TelegramAdapter
from bot.app import build_app
from bot.settings import Settings
from core.clock import SystemClock
from core.simulator.server import SimConfig
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.telegram import FakeTelegramServer
from tests.fakes.telegram.flood import FloodLimits

GROUP = -4001
FIRST_USER = 7000
REAL_LIMIT = 120.0  # real seconds any one variant may take
VIRTUAL_STEP = 0.05
VIRTUAL_LIMIT = 900.0  # virtual seconds the group variant may take
DEBUG = False


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def telegram_bound(chats: list[int], step: float = 0.001) -> list[float]:
    """The earliest time (s after the burst) the fake's flood limits accept each answer, sent in this order."""
    limits, t, out = FloodLimits(), 0.0, []
    for chat_id in chats:
        for _ in range(10**7):
            if limits.retry_after(chat_id, t) is None:
                break
            t += step
        limits.sent(chat_id, t)
        out.append(t)
    return out


def settings_for(tmp: str, burst: int) -> Settings:
    return Settings(_env_file=None, CASTBOT_DATA_DIR=Path(tmp), SEGMIND_API_KEY=None,  # type: ignore[call-arg]
                    CASTBOT_COMMAND_BURST=burst)


async def real_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + REAL_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {REAL_LIMIT:.0f} real s")
        await asyncio.sleep(0.005)


async def quiet(count: Callable[[], int], what: str, *, for_seconds: float = 0.5) -> None:
    """Until `count()` stops growing for a while: the handlers' later work is done before the app stops."""
    deadline = time.monotonic() + REAL_LIMIT
    last, since = count(), time.monotonic()
    while time.monotonic() - since < for_seconds:
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {REAL_LIMIT:.0f} real s")
        await asyncio.sleep(0.02)
        if count() != last:
            last, since = count(), time.monotonic()


# --- Discord -------------------------------------------------------------------------------------------


def slash_options(text: str) -> tuple[str, list[dict[str, Any]]]:
    name, _, rest = text.lstrip("/").partition(" ")
    return name, ([{"name": "prompt", "type": 3, "value": rest}] if rest else [])


Figures = tuple[list[float], float]  # (each command's latency, CPU seconds of the process during the burst)


async def discord_burst(n: int, text: str, burst: int, *, one_channel: bool) -> tuple[Figures, Figures]:
    """Two bursts, one after the other: the first on the bot's cold HTTP pool (each defer opens its own
    connection), the second on the connections the first left open."""
    clock = SystemClock()
    dc = await FakeDiscord().start()
    dc.token = "discord-bench-token"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with build_app(settings_for(tmp, burst), clock=clock,
                                 simulator_config=SimConfig(median_seconds=20.0)) as app:
                adapter = DiscordAdapter(app.service, token=dc.token, api_url=dc.api_url,
                                         gateway_url=dc.gateway_url, clock=clock, guild_ready_timeout=0.05)
                await adapter.start()
                try:
                    name, options = slash_options(text)
                    warm = await dc.slash(name, options, user_id=FIRST_USER - 1, guild_id=None, channel_id=1)
                    await real_until(lambda: bool(dc.find("POST", f"/interactions/{warm['id']}/")), "warm-up")
                    cold = await one_discord_burst(dc, n, name, options, one_channel=one_channel, first_user=FIRST_USER)
                    again = await one_discord_burst(dc, n, name, options, one_channel=one_channel,
                                                    first_user=FIRST_USER + n)
                    return cold, again
                finally:
                    await adapter.stop()
    finally:
        await dc.close()


async def one_discord_burst(dc: FakeDiscord, n: int, name: str, options: list[dict[str, Any]], *,
                            one_channel: bool, first_user: int) -> Figures:
    sent = []
    cpu = time.process_time()
    for i in range(n):
        where: dict[str, Any] = ({"guild_id": 222, "channel_id": 333} if one_channel else
                                 {"guild_id": None, "channel_id": 10_000 + first_user + i})
        sent.append(await dc.slash(name, options, user_id=first_user + i, **where))
    ids = {p["id"] for p in sent}

    def deferred() -> dict[str, float]:
        return {c.path.split("/")[2]: c.at for c in dc.calls
                if c.method == "POST" and c.path.startswith("/interactions/") and c.path.split("/")[2] in ids}
    await real_until(lambda: len(deferred()) == n, "every defer")
    cpu = time.process_time() - cpu
    dispatched = {d["id"]: at for at, event, d, _ in dc.dispatched if event == "INTERACTION_CREATE"}
    done = deferred()
    await quiet(lambda: len(dc.calls), "the follow-ups")
    if DEBUG:
        t0 = min(dispatched[i] for i in ids)
        for i in sorted(ids, key=dispatched.get):
            print(f"    dispatched +{(dispatched[i] - t0) * 1000:6.1f} ms, deferred +{(done[i] - t0) * 1000:6.1f} ms")
    return [done[i] - dispatched[i] for i in ids], cpu


# --- Telegram ------------------------------------------------------------------------------------------


def first_answers(tg: FakeTelegramServer, keys: dict[tuple[int, int], float]) -> dict[tuple[int, int], float]:
    """(chat, message id) -> when the first accepted sendMessage answering it reached the fake."""
    found: dict[tuple[int, int], float] = {}
    for call in tg.calls:
        if call.method != "sendMessage" or call.status != 200 or call.chat_id is None:
            continue
        reply = call.params.get("reply_parameters") or {}
        key = (call.chat_id, int(reply.get("message_id", 0))) if isinstance(reply, dict) else None
        if key in keys and key not in found:
            found[key] = call.at
    return found


async def telegram_burst(n: int, text: str, burst: int, *, group: bool) -> tuple[list[float], int, int]:
    """(latencies of the answered, how many were answered, the fake's 429 refusals)."""
    clock: Any = FakeClock() if group else SystemClock()
    now = clock.now if group else time.monotonic
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegramServer(clock=now) as tg, build_app(
                settings_for(tmp, burst), clock=clock, simulator_config=SimConfig(median_seconds=20.0)) as app:
            adapter = TelegramAdapter(app.service, token=tg.token, api_url=tg.root, clock=clock, poll_timeout=1.0)

            async def until(condition: Callable[[], bool], what: str) -> None:
                if not group:
                    return await real_until(condition, what)
                start = clock.now()
                while not condition():
                    if clock.now() - start > VIRTUAL_LIMIT:
                        raise SystemExit(f"gave up waiting for {what} after {VIRTUAL_LIMIT:.0f} virtual s")
                    await clock.advance(VIRTUAL_STEP)
                    await asyncio.sleep(0.002)

            start = asyncio.ensure_future(adapter.start())
            await until(start.done, "the adapter to start")
            start.result()
            try:
                warm = tg.send_text(FIRST_USER - 1, FIRST_USER - 1, text)
                warm_key = {(FIRST_USER - 1, warm["message_id"]): now()}
                await until(lambda: bool(first_answers(tg, warm_key)), "warm-up")
                if group:  # a bot up for over a minute: in its first it spaces a group's messages 3 s apart
                    await clock.advance(61.0)
                t0 = now()
                keys = {}
                for i in range(n):
                    chat = GROUP if group else FIRST_USER + i
                    keys[(chat, tg.send_text(chat, FIRST_USER + i, text)["message_id"])] = t0
                refused0 = sum(1 for c in tg.calls if c.status == 429)
                # the group's outbox may drop answers beyond its bound: stop once nothing more is coming
                await until(lambda: len(first_answers(tg, keys)) == n or (
                    not tg._updates and now() - t0 > 5.0 and adapter.messenger.idle), "the answers")
                found = first_answers(tg, keys)
                refused = sum(1 for c in tg.calls if c.status == 429) - refused0
            finally:
                stop = asyncio.ensure_future(adapter.stop())
                await until(stop.done, "the adapter to stop")
    return [at - t0 for at in found.values()], len(found), refused


# --- console -------------------------------------------------------------------------------------------


class StampedStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    def write(self, s: str) -> int:
        self.stamps.append(time.monotonic())
        return super().write(s)


async def console_burst(n: int, text: str, burst: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with build_app(settings_for(tmp, burst), clock=SystemClock(),
                             simulator_config=SimConfig(median_seconds=20.0)) as app:
            out = StampedStream()
            session = ConsoleSession(app.service, ConsoleMessenger(Path(tmp) / "out", stream=out, live=False),
                                     user="bench", base_dir=Path(tmp), follow_jobs=False)
            await session.handle(text)  # warm-up
            t0 = time.monotonic()
            latencies = []
            for _ in range(n):  # the session reads lines one after another, as from a pipe
                before = len(out.stamps)
                await session.handle(text)
                latencies.append(out.stamps[before] - t0 if len(out.stamps) > before else float("nan"))
            return latencies


# --- report --------------------------------------------------------------------------------------------


def row(label: str, latencies: list[float], bound: list[float] | None, unit: str, note: str = "") -> None:
    scale, digits = (1000.0, 1) if unit == "ms" else (1.0, 2)
    ours = (pct(latencies, 0.5) * scale, pct(latencies, 0.99) * scale)
    if bound:
        limit = (pct(bound, 0.5) * scale, pct(bound, 0.99) * scale)
        ratio = "  ".join(f"{o / max(b, 1e-9):5.2f}x" if b > 0 else "   —  " for o, b in zip(ours, limit, strict=True))
        bounds = f"{limit[0]:9.{digits}f} {limit[1]:9.{digits}f}   {ratio}"
    else:
        bounds = f"{0.0:9.1f} {0.0:9.1f}   (no platform limit)"
    print(f"  {label:<40} {ours[0]:9.{digits}f} {ours[1]:9.{digits}f} {unit:<3} | bound {bounds}  {note}")


async def main(args: argparse.Namespace) -> None:
    n, text, burst, only = args.n, args.text, args.burst, args.only
    print(f"burst of {n} × {text!r} at once; per-person command burst {burst}")
    print(f"  {'':<40} {'p50':>9} {'p99':>9}     | {'':5} {'p50':>9} {'p99':>9}   ratio p50 / p99")
    if only in (None, "discord"):
        for one_channel in (False, True):
            runs = [await discord_burst(n, text, burst, one_channel=one_channel) for _ in range(args.repeat)]
            where = "one channel" if one_channel else f"{n} DMs"
            for pool, k in (("cold", 0), ("warm", 1)):
                lat, cpu = min((r[k] for r in runs), key=lambda f: pct(f[0], 0.99))
                spread = ", ".join(f"{pct(r[k][0], 0.99) * 1000:.0f}" for r in runs)
                row(f"discord defer, {where}, {pool} pool", lat, None, "ms",
                    f"target p99 < 100 ms: {'MET' if pct(lat, 0.99) < 0.1 else 'NOT MET'}; "
                    f"p99 of each run {spread} ms; "
                    f"CPU {cpu / n * 1000:.2f} ms/command (bot + fake)")
    if only in (None, "telegram"):
        runs = [await telegram_burst(n, text, burst, group=False) for _ in range(args.repeat)]
        lat, answered, refused = min(runs, key=lambda r: pct(r[0], 0.99))
        spread = ", ".join(f"{pct(r[0], 0.5):.2f}/{pct(r[0], 0.99):.2f}" for r in runs)
        bound = telegram_bound([FIRST_USER + i for i in range(n)])
        met = all(pct(lat, q) <= 1.1 * pct(bound, q) + 0.005 for q in (0.5, 0.99)) and answered == n
        if DEBUG:
            print(f"    first answer after {min(lat) * 1000:.0f} ms, last after {max(lat) * 1000:.0f} ms")
        row(f"telegram, {n} private chats (real s)", lat, bound, "s",
            f"{answered}/{n} answered, {refused} × 429; within 10 %: {'MET' if met else 'NOT MET'}; "
            f"p50/p99 of each run {spread} s, 429s {', '.join(str(r[2]) for r in runs)}")
        lat, answered, refused = await telegram_burst(n, text, burst, group=True)
        bound = telegram_bound([GROUP] * answered)
        met = all(pct(lat, q) <= 1.1 * pct(bound, q) + 0.05 for q in (0.5, 0.99))
        row("telegram, one group (VIRTUAL s)", lat, bound, "s",
            f"{answered}/{n} answered (the rest dropped by the chat's outbox bound), {refused} × 429; "
            f"within 10 %: {'MET' if met else 'NOT MET'}")
    if only in (None, "console"):
        row("console, one session", await console_burst(n, text, burst), None, "ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="commands in the burst")
    parser.add_argument("--text", default="/quota", help="the command each person sends")
    parser.add_argument("--burst", type=int, default=10_000, help="CASTBOT_COMMAND_BURST (default: no limit)")
    parser.add_argument("--only", choices=("discord", "telegram", "console"))
    parser.add_argument("--repeat", type=int, default=3,
                        help="real-time variants run this often; the best p99 is shown (other tenants only add time)")
    parser.add_argument("--timeline", action="store_true",
                        help="print each Discord interaction's times, Telegram's first answer")
    parsed = parser.parse_args()
    DEBUG = parsed.timeline
    asyncio.run(main(parsed))
