"""Where a finished job's time goes between "Segmind says done" and "the platform took the images".

Each stage is timed twice: `time.perf_counter` for the work castbot itself does (downloads, disk, the
safety gate, encoding, the platform upload), and the injected clock for what it waits on by design
(a chat's pacing turn, a delivery retry's backoff). On a virtual clock the two separate cleanly: the
waits show as clock seconds, the work as real ones. The figures go to the `castbot_delivery_stage_seconds`
histogram and, at DEBUG, to this module's logger with the trace attached (`record.delivery`), which is how
tests/bench/delivery.py reads them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from core import metrics
from core.clock import Clock

log = logging.getLogger(__name__)

# In order; a resumed job starts at "screen". The gate scores the images while they are stored, so "screen" is
# only what is left of its work once the files and rows are written.
STAGES = ("download", "store", "screen", "send")


@dataclass
class DeliveryTrace:
    job_id: str
    clock: Clock
    started: float = field(default_factory=time.perf_counter)  # real seconds, perf_counter's scale
    stages: dict[str, float] = field(default_factory=dict)  # real seconds per stage
    images: int = 0
    platform: str = ""
    clock_started: float = 0.0
    waited: float = 0.0  # clock seconds from start to end: pacing and backoff, not work
    real: float = 0.0  # real seconds from start to end
    # CPU seconds the whole process used from start to end: on a busy machine real time stretches, this does not
    cpu: float = 0.0
    cpu_started: float = field(default_factory=time.process_time)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.clock_started = self.clock.now()
        self._last = self.started

    def mark(self, stage: str) -> None:
        """The stage that just ended (stages repeat: a retried send adds up)."""
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self._last
        self._last = now

    def done(self, platform: str, images: int) -> None:
        self.platform, self.images = platform, images
        self.real = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started
        self.waited = max(0.0, self.clock.now() - self.clock_started)
        for stage, seconds in self.stages.items():
            metrics.DELIVERY_STAGES.labels(platform=platform, stage=stage).observe(seconds)
        if log.isEnabledFor(logging.DEBUG):
            parts = ", ".join(f"{stage} {self.stages[stage] * 1000:.1f}" for stage in STAGES if stage in self.stages)
            log.debug("job %s: %d image(s) to %s in %.1f ms real (%s), %.2f s waited", self.job_id, images,
                      platform, self.real * 1000, parts, self.waited, extra={"delivery": self})
