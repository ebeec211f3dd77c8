"""A per-person command rate limit: one token bucket per (platform, user), on the injected clock.

Every command a person sends — typed, slash or a button press — takes a token; tokens come back at
`per_minute` and at most `burst` are kept, so a person can fire a short burst and then a steady trickle.
The first command refused in a window is answered once (`SlowDown`, worded by core.errors.word with the
seconds until a token is back); the rest of that window get `Throttled`, which adapters show as nothing
(Discord, which must answer every interaction, answers privately). A flood thus costs the bot one message,
not one per command queued behind the chat's pace for minutes.

The bucket is the person's, not the community's: five groups don't give five buckets. Admins count like
everyone: anyone can create a group and be its admin, so exempting admins would exempt every flooder.
Memory is bounded: at most `max_tracked` people are remembered, least recently seen forgotten first (a
forgotten person starts again with a full bucket, which is what a person idle that long would have).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from core.clock import Clock
from core.commands.answers import Throttled
from core.errors import SlowDown
from core.types import Actor

DEFAULT_BURST = 8  # commands in a row before the limit bites
DEFAULT_PER_MINUTE = 10.0  # commands a minute after the burst: one every 6 s
MAX_TRACKED = 20_000  # people remembered at once
EPSILON = 1e-9  # refills are float sums: a token due at exactly this moment counts as back


@dataclass(frozen=True, slots=True)
class CommandRate:
    burst: int = DEFAULT_BURST
    per_minute: float = DEFAULT_PER_MINUTE


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # clock time `tokens` was counted
    warned: bool = False  # this window's SlowDown was already answered


class CommandLimiter:
    def __init__(self, clock: Clock, rate: CommandRate | None = None, *, max_tracked: int = MAX_TRACKED) -> None:
        self._clock = clock
        self.rate = rate or CommandRate()
        self._per_second = self.rate.per_minute / 60.0
        self._max_tracked = max_tracked
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def admit(self, actor: Actor) -> Throttled | None:
        """None: the command may run. Raises SlowDown for the first refusal of a window; Throttled after that."""
        bucket = self._bucket((actor.platform, actor.user_id))
        if bucket.tokens >= 1.0 - EPSILON:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            bucket.warned = False
            return None
        wait = max(1, math.ceil((1.0 - bucket.tokens) / self._per_second))
        if bucket.warned:
            return Throttled(retry_after=wait)
        bucket.warned = True
        raise SlowDown(retry_after=wait)

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: tuple[str, str]) -> _Bucket:
        now = self._clock.now()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.rate.burst), now)
        else:
            bucket.tokens = min(float(self.rate.burst), bucket.tokens + (now - bucket.at) * self._per_second)
            bucket.at = now
        self._buckets[key] = bucket  # most recently seen last
        while len(self._buckets) > self._max_tracked:
            self._buckets.popitem(last=False)
        return bucket
