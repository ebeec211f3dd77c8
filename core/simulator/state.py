"""The Segmind simulator's model: its jobs, files, credits and request log, all timed by the injected clock.

States are computed from the clock on each request, so a thousand jobs cost no tasks. The HTTP routes
(core.simulator.routes) read and change this state; core.simulator.server puts both behind a socket.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from core.catalog import MODELS, Encoding, Model, Transport
from core.clock import Clock, SystemClock
from core.simulator.art import ArtCache, ArtSpec

QUEUE_FRACTION = 0.15  # share of a job's time spent QUEUED before PROCESSING
FAILURE_DETAILS = (
    "Content blocked: the request was flagged by the safety (RAI) filter",
    "Inference failed: the model could not detect a face in the subject image",
    "Inference failed: worker ran out of GPU memory",
)
SERVER_ERRORS = (500, 502, 504)
PRUNE_EVERY = 256  # jobs created between sweeps of expired state
UPLOAD_RETENTION_SECONDS = 86_400.0  # uploaded inputs outlive job results; a day is plenty here
MAX_UPLOAD_BYTES = 20_000_000
SLOW_BODY_PAUSE = 1.0  # real seconds the slow body stalls mid-way (a client read timeout should trip)


@dataclass
class SimConfig:
    api_key: str = "sim-key"
    median_seconds: float = 60.0  # log-normal job duration, as the pages' typical ~60 s
    cv: float = 0.2  # coefficient of variation of the duration
    speed: float = 1.0  # durations are divided by this
    failure_rate: float = 0.0  # jobs that end FAILED (422 with detail; some are content blocks)
    rate_limit_rate: float = 0.0  # requests answered 429 with Retry-After
    server_error_rate: float = 0.0  # status polls answered 5xx
    latency: float = 0.0  # real seconds added to each response
    slow_body: bool = False  # file downloads stall half-way
    truncate_rate: float = 0.0  # file downloads cut short
    credits: float | None = None  # balance; 406 once a call costs more than is left
    retention_seconds: float = 3600.0  # results 404 this long after completion
    seed: int = 0
    retry_after: float = 1.0  # what a random 429 asks for
    history_limit: int = 200_000  # recorded requests kept (a long-running embedded simulator stays bounded)
    # A prompt containing this word (case-insensitive) gets pictures carrying the safety gate's test mark
    # (core.simulator.art.FLAG_COLOURS); "" never marks. Tests set it; a real Segmind has no such thing.
    flag_word: str = ""


@dataclass(frozen=True, slots=True)
class SimRequest:
    method: str
    path: str
    status: int
    at: float


@dataclass
class SimJob:
    request_id: str
    transport: Transport
    model: Model
    submitted_at: float
    started_at: float  # true start of PROCESSING
    completed_at: float  # true end (COMPLETED or FAILED)
    outputs: tuple[str, ...] = ()  # file names
    failure: str | None = None
    expired: bool = False

    def state(self, now: float) -> str:
        if now < self.started_at:
            return "QUEUED"
        if now < self.completed_at:
            return "PROCESSING"
        return "FAILED" if self.failure else "COMPLETED"


class SimulatorError(Exception):
    def __init__(self, status: int, error: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.headers = headers or {}


MODELS_BY_SLUG: dict[str, Model] = {m.slug: m for m in MODELS.values()}


class SimState:
    """What the simulator knows and how it changes; the routes call these methods, tests read them."""

    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = clock or SystemClock()
        self.url = ""  # set once the server is listening: file URLs point back at it
        self.requests: deque[SimRequest] = deque(maxlen=self.config.history_limit)
        self._rng = random.Random(self.config.seed)
        self._ids = itertools.count(1)
        self._jobs: dict[str, SimJob] = {}
        self._files: dict[str, tuple[bytes, str] | ArtSpec] = {}
        self._uploaded_at: dict[str, float] = {}
        self._art = ArtCache()

    # --- test controls ---------------------------------------------------------------------------

    def job(self, request_id: str) -> SimJob:
        return self._jobs[request_id]

    @property
    def jobs(self) -> list[SimJob]:
        return list(self._jobs.values())

    def expire(self, request_id: str) -> None:
        self._jobs[request_id].expired = True

    def count(self, path_part: str, method: str = "GET") -> int:
        return sum(1 for r in self.requests if r.method == method and path_part in r.path)

    # --- used by the routes ----------------------------------------------------------------------

    def new_id(self) -> str:
        return f"sim-{self.config.seed}-{next(self._ids):06d}"

    def duration(self) -> float:
        cfg = self.config
        sigma = math.sqrt(math.log1p(cfg.cv**2))
        return self._rng.lognormvariate(math.log(cfg.median_seconds), sigma) / max(cfg.speed, 1e-9)

    def chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def pick(self, options: tuple[Any, ...]) -> Any:
        return options[self._rng.randrange(len(options))]

    def charge(self, cost: float) -> None:
        if self.config.credits is None:
            return
        if self.config.credits < cost:
            raise SimulatorError(406, "Insufficient credits")
        self.config.credits -= cost

    def create_job(self, model: Model, payload: dict[str, Any], transport: Transport) -> SimJob:
        now = self.clock.now()
        total = self.duration()
        request_id = self.new_id()
        job = SimJob(request_id, transport, model, now, now + total * QUEUE_FRACTION, now + total)
        if self.chance(self.config.failure_rate):
            job.failure = self.pick(FAILURE_DETAILS)
        else:
            job.outputs = self.add_outputs(request_id, model, payload)
        self._jobs[request_id] = job
        if len(self._jobs) % PRUNE_EVERY == 0:
            self._prune(now)
        return job

    def find_job(self, request_id: str) -> SimJob:
        job = self._jobs.get(request_id)
        if job is None or job.expired:
            raise SimulatorError(404, "Request not found")
        if self.clock.now() > job.completed_at + self.config.retention_seconds:
            raise SimulatorError(404, "Request not found (expired)")
        return job

    def add_outputs(self, request_id: str, model: Model, payload: dict[str, Any]) -> tuple[str, ...]:
        fmt = str(payload.get("output_format") or ("jpg" if model.transport is Transport.V1 else "png"))
        fmt = "jpg" if fmt == "jpeg" else fmt
        inputs = self.input_images(model, payload)
        prompt = str(payload.get(model.prompt_field) or "")
        seed = int(payload.get(model.seed_field or "seed", 0) or 0)
        flagged = bool(self.config.flag_word) and self.config.flag_word.lower() in prompt.lower()
        names = []
        for index in range(model.output_count(payload)):
            name = f"{request_id}-{index + 1}.{fmt}"
            self._files[name] = ArtSpec(inputs, prompt, seed, index, fmt, flagged)
            names.append(name)
        return tuple(names)

    def input_images(self, model: Model, payload: dict[str, Any]) -> tuple[bytes, ...]:
        images = []
        for slot in model.images:
            value = payload.get(slot.field)
            if not isinstance(value, str) or not value:
                continue
            data = self._decode(value) if slot.encoding is Encoding.BASE64 else self._local_file(value)
            if data:
                images.append(data)
        return tuple(images)

    def _prune(self, now: float) -> None:
        """Forget jobs (and their outputs) past retention, so an embedded simulator runs for weeks."""
        horizon = now - self.config.retention_seconds
        gone = [rid for rid, job in self._jobs.items() if job.expired or job.completed_at < horizon]
        for rid in gone:
            for name in self._jobs.pop(rid).outputs:
                self._files.pop(name, None)
        stale = [name for name, at in self._uploaded_at.items() if at < horizon - UPLOAD_RETENTION_SECONDS]
        for name in stale:
            self._files.pop(name, None)
            del self._uploaded_at[name]

    def store_upload(self, data: bytes, mime: str) -> str:
        ext = mime.rpartition("/")[2] or "bin"
        name = f"upload-{next(self._ids):06d}.{ext}"
        self._files[name] = (data, mime)
        self._uploaded_at[name] = self.clock.now()
        return f"{self.url}/files/{name}"

    def file(self, name: str) -> tuple[bytes, str]:
        entry = self._files.get(name)
        if entry is None:
            raise SimulatorError(404, "File not found")
        if isinstance(entry, ArtSpec):
            self.find_job(name.rsplit("-", 1)[0])  # outputs expire with their job, as Segmind's do
            return self._art.get(entry), entry.mime
        return entry

    def file_url(self, name: str) -> str:
        return f"{self.url}/files/{name}"

    def _local_file(self, url: str) -> bytes:
        prefix = f"{self.url}/files/"
        if not url.startswith(prefix):
            return b""  # a URL elsewhere: the simulator does not fetch the internet
        entry = self._files.get(url[len(prefix):])
        return entry[0] if isinstance(entry, tuple) else b""

    @staticmethod
    def _decode(value: str) -> bytes:
        if value.startswith("data:"):
            value = value.partition(",")[2]
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SimulatorError(400, "Image is not valid base64") from None
