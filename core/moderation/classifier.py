"""The image safety gate's classifier seam: anything that scores one image's bytes from 0 (safe) to 1.

A classifier is synchronous and CPU-bound on purpose: the gate (core.moderation.gate) runs it in a worker
thread, so no classifier can block the event loop, and a test can register a tiny deterministic one
(tests/fakes/safety.py) without threads of its own. `NoClassifier` stands in when none is installed: it
passes everything and says why, which `castbot doctor` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float  # 0..1: how sure the classifier is that the image is not safe for work
    labels: tuple[str, ...] = ()  # what it saw, when it can say (e.g. "porn"); short, safe for the admins' log


class Classifier(Protocol):
    name: str  # shown in doctor and the admins' log, e.g. "open-nsfw"

    @property
    def active(self) -> bool:
        """False for the stand-in that checks nothing: the gate is then off."""
        ...

    def classify(self, data: bytes) -> Verdict:
        """Score one encoded image. Blocking; raising means "could not tell" (the gate then holds it back)."""
        ...


@dataclass(frozen=True, slots=True)
class NoClassifier:
    """No classifier installed or chosen: every image passes, and `reason` says why the gate is off."""

    reason: str
    name: str = "none"

    @property
    def active(self) -> bool:
        return False

    def classify(self, data: bytes) -> Verdict:
        return Verdict(0.0)
