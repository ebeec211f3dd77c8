"""Optional HTTP listener (CASTBOT_HTTP_PORT): `/healthz` as JSON and `/metrics` for Prometheus.

`/healthz` answers 503 only when the database is unreachable: that is what a container restart can
fix. A platform adapter that is reconnecting shows as `false` under `adapters` and turns the status to
"degraded", but still answers 200 — restarting the process would not bring Discord back sooner.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.clock import Clock, SystemClock
from core.metrics import ADAPTER_CONNECTED, REGISTRY

log = logging.getLogger(__name__)

DB_PROBE_TIMEOUT = 2.0  # seconds; a health probe must answer fast even when SQLite is busy


@dataclass(frozen=True, slots=True)
class HealthReport:
    database: bool
    adapters: Mapping[str, bool]

    @property
    def status(self) -> str:
        if not self.database:
            return "down"
        return "ok" if all(self.adapters.values()) else "degraded"


HealthProbe = Callable[[], Awaitable[HealthReport]]


def connected_adapters() -> dict[str, bool]:
    """Adapter connection state as the adapters last reported it through the metrics gauge."""
    states: dict[str, bool] = {}
    for family in ADAPTER_CONNECTED.collect():
        for sample in family.samples:
            states[sample.labels["platform"]] = sample.value >= 1
    return states


async def database_reachable(db_path: Path) -> bool:
    """True when the SQLite file opens and answers a query that reads its schema (read-only, never creates it)."""

    def probe() -> bool:
        if not db_path.exists():
            return False
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=DB_PROBE_TIMEOUT)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the header
            return True
        finally:
            conn.close()

    try:
        return await asyncio.wait_for(asyncio.to_thread(probe), DB_PROBE_TIMEOUT + 1)
    except (sqlite3.Error, OSError, TimeoutError) as exc:
        log.warning("health: database probe failed: %s", exc)
        return False


def probe_for(db_path: Path) -> HealthProbe:
    async def probe() -> HealthReport:
        return HealthReport(database=await database_reachable(db_path), adapters=connected_adapters())

    return probe


class HealthServer:
    """`async with HealthServer(probe, port=...) as server:` serves until the block exits."""

    def __init__(self, probe: HealthProbe, *, port: int, host: str = "0.0.0.0", clock: Clock | None = None):
        self._probe = probe
        self._host = host
        self._requested_port = port
        self._clock = clock or SystemClock()
        self._started_at = self._clock.now()
        self._runner: web.AppRunner | None = None
        self.port: int = port  # the bound port, useful when asked for port 0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def __aenter__(self) -> HealthServer:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        if self._runner.addresses:
            self.port = self._runner.addresses[0][1]
        log.info("health: listening on http://%s:%d (/healthz, /metrics)", self._host, self.port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._probe()
        body = {
            "status": report.status,
            "database": report.database,
            "adapters": dict(report.adapters),
            "uptime_seconds": round(self._clock.now() - self._started_at, 1),
        }
        return web.json_response(body, status=503 if report.status == "down" else 200)

    async def _metrics(self, request: web.Request) -> web.Response:
        payload = generate_latest(REGISTRY)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
