"""The prompt rules, in layers, checked once in core before anything costs: CastService screens a generation's
prompt (with its saved character's description), a re-roll's prompt and a character's name and description here.

Layers, in order: the operator's minor-safety rule (core.moderation.safety), the operator's blocklist (a file the
operator names in settings), then the community's own word and pattern filters. No community setting reaches the
first two. A refusal is logged in the moderation log with the rule kind and what was refused, never the text,
and raises PromptBlocked: nothing was written, downloaded or charged before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.errors import NotFoundError
from core.moderation.errors import PromptBlocked
from core.moderation.normalize import normalize
from core.moderation.rules import FilterKind, PromptFilter, RuleKind, first_hit, make_filter
from core.moderation.safety import minors_sexualized
from core.store.filters import FilterStore
from core.store.modlog import ModLog

if TYPE_CHECKING:
    from core.store.sqlite import SqliteStore
    from core.types import Actor, Place


class PromptGuard:
    def __init__(self, store: SqliteStore, *, operator_list: Sequence[PromptFilter] = ()) -> None:
        self.store = store
        self.filters = FilterStore(store)
        self.log = ModLog(store)
        self.operator_list = tuple(operator_list)

    async def screen(self, actor: Actor, place: Place, *texts: str | None, field: str = "prompt") -> None:
        """Raise PromptBlocked if any layer refuses the texts (read together: a prompt and its character's
        description may each be innocent alone)."""
        joined = "\n".join(t for t in texts if t)
        if not joined.strip():
            return
        rule = await self.rule_for(place.scope_id, joined)
        if rule is None:
            return
        await self.log.record(scope_id=place.scope_id, platform=actor.platform, kind="prompt_blocked",
                              now=self.store.clock.now(), user_id=actor.user_id, detail=f"{rule.value} ({field})")
        raise PromptBlocked(rule=rule.value, field=field)

    async def rule_for(self, scope_id: str, text: str) -> RuleKind | None:
        """Which layer refuses `text` here, if any."""
        community = await self.filters.filters(scope_id)
        # A few ms for a prompt of the maximum length (tests/bench/prompt_rules.py): off the event loop.
        return await asyncio.to_thread(self._rule_for, text, community)

    def _rule_for(self, text: str, community: Sequence[PromptFilter]) -> RuleKind | None:
        normalized = normalize(text)
        if minors_sexualized(normalized):
            return RuleKind.OPERATOR_SAFETY
        if first_hit(normalized, self.operator_list) is not None:
            return RuleKind.OPERATOR_LIST
        hit = first_hit(normalized, community)
        if hit is None:
            return None
        return RuleKind.PATTERN if hit.kind == FilterKind.PATTERN else RuleKind.WORD

    # --- the community's filters, for its admins (CastService.prompt_filters authorizes first) -----------

    async def add(self, actor: Actor, place: Place, kind: FilterKind, value: str) -> tuple[PromptFilter, bool]:
        """The filter, and whether it is new (False: the community already had it)."""
        f = make_filter(kind, value, created_at=self.store.clock.now())
        added = await self.filters.add(place.scope_id, f)
        if added:
            await self.log.record(scope_id=place.scope_id, platform=actor.platform, kind="filter_added",
                                  now=f.created_at, actor_id=actor.user_id, detail=f"{kind.value} filter")
        return f, added

    async def remove(self, actor: Actor, place: Place, kind: FilterKind, value: str) -> PromptFilter:
        # a pattern is named as it was added (it need not compile any more to go)
        f = PromptFilter(kind, value.strip(), value.strip()) if kind == FilterKind.PATTERN else make_filter(kind, value)
        if not await self.filters.remove(place.scope_id, kind, f.key):
            raise NotFoundError(f"This community has no such {kind.value} filter. See /admin filter list.")
        await self.log.record(scope_id=place.scope_id, platform=actor.platform, kind="filter_removed",
                              now=self.store.clock.now(), actor_id=actor.user_id, detail=f"{kind.value} filter")
        return f

    async def page(self, place: Place, *, page: int, size: int) -> tuple[list[PromptFilter], bool]:
        found = await self.filters.filters(place.scope_id, limit=size + 1, offset=(page - 1) * size)
        return found[:size], len(found) > size
