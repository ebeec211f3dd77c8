"""Character saves waiting for the explicit "I may use this face" press; kept in memory, briefly.

A pending save is core's answer ConsentNeeded remembered with what produced it: the same command and the
same image sources (Telegram file ids, never downloaded bytes: nothing is fetched before the press), re-run
with consent on the saver's press. A save from a job's result has no sources: the command names the job.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass

from core.clock import Clock
from core.commands.answers import MAX_PENDING_CONSENTS
from core.commands.types import CharacterSave, ImageSource, SaveFromJob
from core.types import Actor, Place

CONSENT_TTL = 15 * 60  # seconds a pending save waits for its button press


@dataclass(frozen=True, slots=True)
class PendingSave:
    actor: Actor
    place: Place
    command: CharacterSave | SaveFromJob
    sources: tuple[ImageSource, ...]


class ConsentBook:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pending: OrderedDict[str, tuple[float, PendingSave]] = OrderedDict()
        self._ids = itertools.count(1)

    def add(self, pending: PendingSave) -> str:
        token = f"c{next(self._ids)}"
        self._pending[token] = (self._clock.now() + CONSENT_TTL, pending)
        while len(self._pending) > MAX_PENDING_CONSENTS:
            self._pending.popitem(last=False)
        return token

    def peek(self, token: str) -> PendingSave | None:
        entry = self._pending.get(token)
        if entry is None or entry[0] < self._clock.now():
            self._pending.pop(token, None)
            return None
        return entry[1]

    def take(self, token: str) -> None:
        self._pending.pop(token, None)
