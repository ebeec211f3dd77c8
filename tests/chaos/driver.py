"""The chaos run: fakes and simulator in this process, the real `castbot run` as a child, then checks.

Phases: start → load with Segmind and Telegram faults, SIGKILLs with restarts and a mid-run
`castbot backup` → settle (every job final) → hostile-input sweep and burst → settle → SIGTERM →
invariants → summary table. Every wait is a bounded poll; the whole run has a hard deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.simulator.server import Simulator
from tests.chaos import hostile, invariants, transcript
from tests.chaos.discord_side import ANSWER_LIMIT, DISCORD_TOKEN, DiscordSide
from tests.chaos.fake_telegram import ChaosTelegramServer
from tests.chaos.faults import FaultInjector, sim_config
from tests.chaos.process import REPO, BotProcess
from tests.chaos.scenario import (
    ChaosConfig,
    LoadPlayers,
    Play,
    bot_replies,
    button_data,
    community_chat,
    until,
    user_id,
)

log = logging.getLogger(__name__)

SEGMIND_KEY = "SG_chaos_secret_key_5f1e2d3c4b5a69788796"
TELEGRAM_TOKEN = "777000:CHAOS-telegram-token-never-logged"
READY_SECONDS = 40.0
QUIET_SECONDS = 6.0  # longer than any pacing gap (3 s in a group) or injected retry_after


@dataclass
class Outcome:
    violations: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


class ChaosRun:
    def __init__(self, config: ChaosConfig, workdir: Path, *, say: Callable[[str], None] = print) -> None:
        self.config = config
        self.workdir = workdir
        self.say = say
        self.rng = random.Random(config.seed)
        self.play = Play()
        self.outcome = Outcome()
        self.crashes: list[str] = []
        self.backup_path = workdir / "backup.sqlite3"
        self.backup_ok = False
        self.discord: DiscordSide | None = None

    @property
    def db(self) -> Path:
        return self.workdir / "data" / "castbot.sqlite3"

    async def run(self) -> Outcome:
        started = time.monotonic()
        sim = Simulator(sim_config(self.config.sim_speed, self.config.seed))
        sim.config.api_key = SEGMIND_KEY
        await sim.start()
        try:
            if self.config.discord_users:
                self.discord = await DiscordSide.start(self.config.seed)
            async with ChaosTelegramServer(token=TELEGRAM_TOKEN) as fake:
                await self._play(sim, fake, started)
        finally:
            if self.discord is not None:
                await self.discord.fake.close()
            await sim.stop()
        return self.outcome

    def _env(self, sim: Simulator, fake: ChaosTelegramServer) -> dict[str, str]:
        return {"TELEGRAM_TOKEN": fake.token, "TELEGRAM_API_URL": fake.root, "SEGMIND_API_KEY": SEGMIND_KEY,
                "SEGMIND_API_URL": sim.url, "SEGMIND_UPLOAD_URL": sim.url,
                "CASTBOT_DATA_DIR": str(self.workdir / "data"), "CASTBOT_LOG_LEVEL": "INFO",
                **(self.discord.env() if self.discord else {})}

    async def _play(self, sim: Simulator, fake: ChaosTelegramServer, started: float) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        bot = BotProcess(self._env(sim, fake), self.workdir / "logs")
        players = LoadPlayers(fake, self.config, self.play)
        players.setup_admins()
        chats = [community_chat(c) for c in range(self.config.communities)]
        faults = FaultInjector(sim, fake, chats, seed=self.config.seed, every=self.config.fault_every,
                               discord=self.discord)
        await self._start(bot, fake)
        try:
            users = self.config.communities * self.config.users_per_community
            self.say(f"load: {users} users in {self.config.communities} communities, "
                     f"{self.config.kills} kills planned")
            discord_play = (self.discord.play(self.config.discord_users, self.config.discord_jobs,
                                              self.config.load_seconds * 0.8) if self.discord else asyncio.sleep(0))
            await asyncio.gather(players.run(), faults.run(self.config.load_seconds), discord_play,
                                 self._killer(bot, fake), self._backup_midway(bot))
            self.say(f"{time.monotonic() - started:.0f} s: load played, settling")
            await self._settle(bot, fake, "load")
            warm_rss = bot.sample_memory()
            self.say(f"{time.monotonic() - started:.0f} s: hostile sweep")
            played, hostile_problems = await self._hostile(fake)
            self.say(f"{time.monotonic() - started:.0f} s: burst")
            latencies = await self._burst(fake)
            await self._settle(bot, fake, "burst")
            self.say(f"{time.monotonic() - started:.0f} s: checking")
            end_rss = bot.sample_memory()
        finally:
            code = await bot.stop()
        if code not in (0, None):
            self.crashes.append(f"castbot exited {code} on SIGTERM")
        faults.count_steady()
        transcript.dump_calls(fake, self.workdir / "telegram-calls.txt")
        transcript.dump_commands(fake, self.play, bot.kill_times, self.workdir / "commands.txt")
        self._check(bot, fake, faults, hostile_problems, latencies, warm_rss, end_rss, played, started)

    async def _burst(self, fake: ChaosTelegramServer) -> dict[str, list[float]]:
        """The burst, split across both platforms when Discord plays; all offered within one second."""
        total = self.config.burst_commands
        if self.discord is None:
            return {"telegram": await hostile.burst(fake, total, self.config.burst_users)}
        tg, dc = await asyncio.gather(hostile.burst(fake, total // 2, self.config.burst_users),
                                      self.discord.burst(total - total // 2))
        return {"telegram": tg, "discord": dc}

    async def _start(self, bot: BotProcess, fake: ChaosTelegramServer) -> None:
        starts = len(fake.calls_to("setMyCommands"))
        identifies = self.discord.fake.identifies if self.discord else 0

        def ready() -> bool:
            discord_ok = self.discord is None or self.discord.fake.identifies > identifies
            return len(fake.calls_to("setMyCommands")) > starts and discord_ok

        await bot.start()
        if not await until(ready, READY_SECONDS):
            raise RuntimeError(f"castbot did not start within {READY_SECONDS:.0f} s; see {bot.log_dir}")

    async def _killer(self, bot: BotProcess, fake: ChaosTelegramServer) -> None:
        """SIGKILL at random moments during the first 80 % of the load, then restart at once."""
        span = self.config.load_seconds * 0.8 / self.config.kills
        for _ in range(self.config.kills):
            await asyncio.sleep(self.rng.uniform(0.4, 1.0) * span)
            code = bot.exited_by_itself()
            if code is not None:
                self.crashes.append(f"castbot died by itself (exit {code})")
            await bot.kill()
            await self._start(bot, fake)

    async def _backup_midway(self, bot: BotProcess) -> None:
        await asyncio.sleep(self.config.load_seconds / 2)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "backup", str(self.backup_path), cwd=REPO,
            env={**bot.env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        self.backup_ok = proc.returncode == 0
        if not self.backup_ok:
            self.crashes.append(f"castbot backup failed: {out.decode(errors='replace').strip()[:200]}")

    async def _settle(self, bot: BotProcess, fake: ChaosTelegramServer, phase: str) -> None:
        def done() -> bool:
            bot.sample_memory()
            try:
                rows = invariants.jobs(self.db)
            except Exception:
                return False
            return all(r["state"] in invariants.FINAL for r in rows)

        if not await until(done, self.config.settle_seconds):
            self.say(f"warning: not every job finished within {self.config.settle_seconds:.0f} s after {phase}")
        # then until the bot has sent nothing for QUIET_SECONDS: paced status edits may still be queued
        if not await until(lambda: self._quiet(fake), self.config.settle_seconds):
            self.say(f"warning: the bot was still sending {self.config.settle_seconds:.0f} s after {phase}")

    @staticmethod
    def _quiet(fake: ChaosTelegramServer) -> bool:
        sends = [c.at for c in fake.calls if c.method in invariants.MESSAGE_METHODS]
        return not sends or time.monotonic() - sends[-1] > QUIET_SECONDS

    async def _hostile(self, fake: ChaosTelegramServer) -> tuple[int, list[str]]:
        if not self.config.hostile:
            return 0, []
        chat, owner = community_chat(0), user_id(0, 1)
        mids = {c.message["message_id"] for c in self.play.commands if c.user_id == owner and c.chat_id == chat}
        result = next((m for m in fake.bot_messages(chat) if m.get("reply_to") in mids and button_data(m, "rr:")),
                      None)
        pre_restart = (chat, owner, result) if result is not None else None
        transcript: list[str] = []
        try:
            return await hostile.hostile_sweep(fake, self.db, f"C{user_id(1, 0)}", pre_restart, user_id(0, 2),
                                               transcript)
        finally:
            (self.workdir / "hostile.txt").write_text("\n".join(transcript) + "\n")

    def _check(self, bot: BotProcess, fake: ChaosTelegramServer, faults: FaultInjector, hostile_problems: list[str],
               latencies: dict[str, list[float]], warm_rss: int, end_rss: int, played: int, started: float) -> None:
        figures = invariants.Figures()
        rows = invariants.jobs(self.db)
        telegram_rows = [r for r in rows if r["platform"] == "telegram"]
        figures.jobs.update(r["platform"] + ":" + r["state"] for r in rows if r["platform"] != "telegram")
        kills = bot.kill_times
        v = self.outcome.violations
        v += self.crashes
        v += invariants.ledger_violations(self.db, figures)
        offset = time.monotonic() - time.time()
        v += invariants.delivery_violations(fake, telegram_rows, kills, figures, wall_to_mono=offset)
        v += invariants.stranded_violations(fake, telegram_rows, kills, figures)
        v += invariants.pace_violations(fake, kills)
        v += invariants.secret_violations(bot.logs(), [SEGMIND_KEY, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1],
                                                             DISCORD_TOKEN])
        v += invariants.memory_violations(warm_rss, end_rss)
        v += invariants.backup_violations(self.backup_path)
        v += [f"Telegram refused: {r.method} {r.code} {r.description}" for r in fake.unexpected_refusals()]
        v += hostile_problems
        v += self.discord.violations() if self.discord is not None else []
        v += _unanswered(fake, self.play, kills)
        for platform, values in latencies.items():
            missing = sum(1 for x in values if x == float("inf"))
            if missing:
                v.append(f"burst: {missing} of {len(values)} {platform} commands never answered")
        late = [x for x in latencies.get("discord", []) if ANSWER_LIMIT < x < float("inf")]
        if late:
            v.append(f"burst: {len(late)} Discord interactions answered after {ANSWER_LIMIT:.0f} s "
                     f"(max {max(late):.2f})")
        if self.discord is not None:
            faults.injected["discord interaction token expired"] = self.discord.expired
        faults.injected["telegram getUpdates failed"] = fake.failed_updates
        faults.injected["process SIGKILL"] = bot.kills
        self.outcome.rows = _table(figures, faults, bot, latencies, warm_rss, end_rss, played, len(v), started)


def _unanswered(fake: ChaosTelegramServer, play: Play, kills: list[float]) -> list[str]:
    """Every command offered got some answer, unless a kill fell right after castbot could first see it.

    That is when it was offered, or, if castbot was down then (killed, not yet polling again), when the
    next incarnation was up: the restart's duration is the harness's doing, not time castbot had.
    """
    ups = sorted(c.at for c in fake.calls_to("setMyCommands"))  # each incarnation's start, as _start waits for
    problems = []
    for command in play.commands:
        key = (command.chat_id, command.message["message_id"])
        if bot_replies(fake, *key):
            continue
        at = fake.offered.get(key, 0.0)
        if any(k <= at for k in kills):
            last_kill = max(k for k in kills if k <= at)
            at = max(at, next((u for u in ups if u >= last_kill), at))
        if not any(at - 1.0 <= k <= at + invariants.KILL_GRACE for k in kills):
            problems.append(f"'{command.text[:40]}' in chat {command.chat_id} was never answered")
    return problems


def _latency(values: list[float]) -> str:
    finite = sorted(x for x in values if x != float("inf"))
    return (f"{hostile.percentile(finite, 50):.3f} / {hostile.percentile(finite, 99):.3f} / "
            f"{max(finite, default=0):.3f} s ({len(values)} commands)")


def _table(figures: invariants.Figures, faults: FaultInjector, bot: BotProcess, latencies: dict[str, list[float]],
           warm_rss: int, end_rss: int, played: int, violations: int, started: float) -> list[tuple[str, str]]:
    jobs = ", ".join(f"{state} {n}" for state, n in sorted(figures.jobs.items()))
    return [
        ("jobs", f"{sum(figures.jobs.values())} ({jobs})"),
        ("deliveries", str(figures.deliveries)),
        ("duplicates (no kill between)", str(figures.duplicates)),
        ("duplicates (kill between send and record)", str(figures.duplicates_after_kill)),
        ("commands lost to a kill (stranded status)", str(figures.stranded_after_kill)),
        ("final status lost to a kill (user not told)", str(figures.untold_after_kill)),
        ("refunds (holds released)", str(figures.refunds)),
        ("faults injected", ", ".join(f"{k} {n}" for k, n in sorted(faults.injected.items()))),
        ("restarts", str(bot.starts - 1)),
        ("hostile cases", str(played)),
        *((f"ack latency p50 / p99 / max, {platform}", _latency(values)) for platform, values in latencies.items()),
        ("RSS after warm-up / at end / peak", f"{warm_rss / 1024:.0f} / {end_rss / 1024:.0f} / "
                                              f"{bot.peak_rss_kib / 1024:.0f} MiB"),
        ("invariant violations", str(violations)),
        ("wall time", f"{time.monotonic() - started:.0f} s"),
    ]


def format_table(rows: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    line = "-" * (width + 3 + max((len(v) for _, v in rows), default=0))
    return "\n".join([line] + [f"{k.ljust(width)} | {v}" for k, v in rows] + [line])
