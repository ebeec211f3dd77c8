"""What the fake Discord refused, whom each message would have pinged, and which edits changed nothing.

Every refusal is an assertion: `unexpected()` lists the refusals a test did not announce with
`expect_refusal(code)`, the pings to anyone but the requesting user, and the identical edits (Discord
accepts those, but each is a wasted call against the rate limit). The tests' fixtures fail on any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.fakes.discord_rules import Pings


@dataclass
class Refusal:
    route: str  # "METHOD /path"
    status: int
    code: int
    message: str
    injected: bool = False  # a failure the test asked for (rate_limit, expire_token): never unexpected
    expected: bool = False


@dataclass
class Ping:
    route: str
    message_id: str
    pings: Pings
    allowed_users: frozenset[str]  # whoever asked for this reply: the one user it may notify
    expected: bool = False

    @property
    def stray(self) -> bool:
        p = self.pings
        return p.everyone or p.here or bool(p.roles) or not p.users <= self.allowed_users


@dataclass
class Ledger:
    refusals: list[Refusal] = field(default_factory=list)
    pings: list[Ping] = field(default_factory=list)
    noop_edits: list[str] = field(default_factory=list)  # "METHOD /path" of edits that changed nothing

    def refuse(self, route: str, status: int, code: int, message: str, *, injected: bool = False) -> None:
        self.refusals.append(Refusal(route, status, code, message, injected=injected))

    @contextmanager
    def expect_refusal(self, *codes: int) -> Iterator[list[Refusal]]:
        """Inside the block, refusals with these codes are expected; at least one of them must happen."""
        start = len(self.refusals)
        seen: list[Refusal] = []
        yield seen
        seen += [r for r in self.refusals[start:] if r.code in codes]
        for r in seen:
            r.expected = True
        assert seen, f"expected Discord to refuse with {codes}, it refused {self.refusals[start:]}"

    @contextmanager
    def expect_pings(self) -> Iterator[list[Ping]]:
        """Inside the block, messages may ping anyone; the block gets the pings for its assertions."""
        start = len(self.pings)
        seen: list[Ping] = []
        yield seen
        seen += self.pings[start:]
        for p in seen:
            p.expected = True

    def unexpected(self) -> list[str]:
        problems = [f"Discord refused {r.route}: {r.status} {r.code} {r.message}"
                    for r in self.refusals if not (r.injected or r.expected)]
        problems += [f"{p.route} would ping {p.pings} (only {sorted(p.allowed_users)} may be)"
                     for p in self.pings if p.stray and not p.expected]
        problems += [f"identical edit (a wasted call): {route}" for route in self.noop_edits]
        return problems

    def assert_clean(self) -> None:
        problems = self.unexpected()
        assert not problems, "the fake Discord saw what the real one refuses or regrets:\n" + "\n".join(problems)
