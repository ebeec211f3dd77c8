"""/healthz and /metrics over real HTTP on 127.0.0.1, against a real SQLite file."""

from __future__ import annotations

import sqlite3

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.health import HealthServer, probe_for
from core import metrics
from tests.fakes.clock import FakeClock


def _make_db(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


async def test_metrics_parse_with_the_prometheus_text_parser(tmp_path):
    metrics.JOBS.labels(state="delivered", model="poses").inc()
    metrics.QUEUE_DEPTH.set(3)
    metrics.observe_segmind("v2.status", 429, 0.12)
    metrics.STATUS_REQUESTS.inc()
    metrics.RATE_LIMITED.labels(source="telegram").inc()
    metrics.observe_segmind("v2.submit", 0, 1.5)
    metrics.DELIVERY_LATENCY.labels(platform="telegram").observe(0.8)
    metrics.QUOTA_UNITS_SPENT.labels(model="poses").inc(4)

    server = HealthServer(probe_for(tmp_path / "db.sqlite3"), host="127.0.0.1", port=0)
    async with server, httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{server.port}/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert samples[("castbot_jobs_total", (("model", "poses"), ("state", "delivered")))] >= 1
    assert samples[("castbot_queue_depth", ())] == 3
    assert samples[("castbot_rate_limited_total", (("source", "telegram"),))] >= 1
    assert samples[("castbot_segmind_responses_total", (("kind", "v2.status"), ("status", "429")))] >= 1
    assert samples[("castbot_segmind_responses_total", (("kind", "v2.submit"), ("status", "error")))] >= 1
    assert samples[("castbot_segmind_status_requests_total", ())] >= 1
    assert samples[("castbot_quota_units_spent_total", (("model", "poses"),))] >= 4
    for name in ("castbot_segmind_request_seconds", "castbot_delivery_seconds", "castbot_jobs_in_flight"):
        assert name in families


async def test_healthz_reports_database_and_adapters(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    clock = FakeClock()
    server = HealthServer(probe_for(db), host="127.0.0.1", port=0, clock=clock)
    metrics.ADAPTER_CONNECTED.labels(platform="telegram").set(1)
    metrics.ADAPTER_CONNECTED.labels(platform="discord").set(0)
    try:
        async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            missing = await client.get("/healthz")
            _make_db(db)
            await clock.advance(42)
            degraded = await client.get("/healthz")
            metrics.ADAPTER_CONNECTED.labels(platform="discord").set(1)
            healthy = await client.get("/healthz")
    finally:
        metrics.ADAPTER_CONNECTED.remove("telegram")
        metrics.ADAPTER_CONNECTED.remove("discord")

    assert missing.status_code == 503
    assert missing.json()["status"] == "down"
    assert degraded.status_code == 200
    assert degraded.json() == {
        "status": "degraded",
        "database": True,
        "adapters": {"telegram": True, "discord": False},
        "uptime_seconds": 42.0,
    }
    assert healthy.json()["status"] == "ok"


async def test_healthz_is_down_when_the_database_file_is_garbage(tmp_path):
    db = tmp_path / "castbot.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    server = HealthServer(probe_for(db), host="127.0.0.1", port=0)
    async with server, httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{server.port}/healthz")
    assert response.status_code == 503
    assert response.json()["database"] is False
