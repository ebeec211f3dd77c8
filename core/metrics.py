"""Prometheus metric objects. The engine, client and adapters increment them; bot/health serves them.

All live in one `REGISTRY` (not prometheus-client's global one) so `/metrics` shows exactly castbot's
figures plus the process collector, and tests can read them without other libraries' noise.
Label values are small closed sets (states, catalog keys, platforms, HTTP status codes): never user ids,
prompts or URLs, which would explode cardinality and could leak secrets.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

JOBS = Counter(
    "castbot_jobs",
    "Jobs that entered a state, by state and catalog model.",
    ["state", "model"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "castbot_queue_depth",
    "Jobs accepted and waiting for an engine slot.",
    registry=REGISTRY,
)
JOBS_IN_FLIGHT = Gauge(
    "castbot_jobs_in_flight",
    "Jobs submitted to Segmind and not yet finished.",
    registry=REGISTRY,
)
SEGMIND_LATENCY = Histogram(
    "castbot_segmind_request_seconds",
    "Latency of HTTP requests to Segmind, by call kind (v2.submit, v2.status, workflow.poll, upload, ...).",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
SEGMIND_RESPONSES = Counter(
    "castbot_segmind_responses",
    "Segmind HTTP responses by call kind and status code ('error' when the network broke).",
    ["kind", "status"],
    registry=REGISTRY,
)
STATUS_VIEWS = Counter(
    "castbot_status_views",
    "Job status views built (status ticks, answers, deliveries); a quiet tick builds none.",
    registry=REGISTRY,
)
STATUS_REQUESTS = Counter(
    "castbot_segmind_status_requests",
    "Status polls sent to Segmind; rate() gives polls per second under the global budget.",
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "castbot_rate_limited",
    "HTTP 429 answers received, by source (segmind, telegram, discord).",
    ["source"],
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "castbot_delivery_seconds",
    "Seconds from outputs downloaded to images delivered to the chat, by platform.",
    ["platform"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
DELIVERY_STAGES = Histogram(
    "castbot_delivery_stage_seconds",
    "Real seconds castbot spends per stage from a job seen done to its images sent (download, store, screen, "
    "send), by platform; waits on a chat's pacing are in castbot_delivery_seconds, not here.",
    ["platform", "stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
    registry=REGISTRY,
)
QUOTA_UNITS_SPENT = Counter(
    "castbot_quota_units_spent",
    "Quota units captured for delivered jobs, by model.",
    ["model"],
    registry=REGISTRY,
)
ADAPTER_CONNECTED = Gauge(
    "castbot_adapter_connected",
    "1 while a platform adapter is connected and receiving events, else 0.",
    ["platform"],
    registry=REGISTRY,
)
CEILING_REFUSALS = Counter(
    "castbot_ceiling_refusals",
    "Jobs refused because the operator's daily spend ceiling was reached.",
    registry=REGISTRY,
)
CEILING_ALERTS = Counter(
    "castbot_ceiling_alerts",
    "Times the operator was told the daily spend ceiling binds (at most once per 24 h).",
    registry=REGISTRY,
)
LIMIT_REFUSALS = Counter(
    "castbot_limit_refusals",
    "Commands or jobs refused by an operator limit, by limit (person_cap, place).",
    ["limit"],
    registry=REGISTRY,
)


def observe_segmind(kind: str, status: int | None, seconds: float) -> None:
    """Record one Segmind HTTP exchange (fits `SegmindClient(observer=...)`).

    `status` None or 0 means the network broke before Segmind answered. Status polls and 429s are
    counted by the engine where it decides on them (STATUS_REQUESTS, RATE_LIMITED), not here, so they
    are not counted twice; every raw 429, retried ones included, shows as `status="429"` here.
    """
    SEGMIND_LATENCY.labels(kind=kind).observe(seconds)
    SEGMIND_RESPONSES.labels(kind=kind, status=str(status) if status else "error").inc()
