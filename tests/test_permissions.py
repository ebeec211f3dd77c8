"""The permission table, cell by cell, through the real CastService (SQLite store, simulator, FakeClock),
and docs/permissions.md checked against core.permissions so the two cannot drift."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core.commands.types import AdminLog, AdminRating
from core.errors import NotAllowed
from core.moderation.audit import AuditDesk
from core.moderation.rules import FilterKind
from core.permissions import ROLES, TABLE, Action, Role, authorize, decide, role_of
from core.service import CastService
from core.types import Actor, JobState, Place
from tests.engine.conftest import ASSETS, Harness, engine_config, harness  # noqa: F401

DOC = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"
PLACE = Place("console", "g1", "chat-g1")
ALICE = Actor("console", "alice", "alice")  # owns the things acted on
MOD = Actor("console", "mod", "mod", is_admin=True)
BOB = Actor("console", "bob", "bob")
CAROL = Actor("console", "carol", "carol", is_admin=True)  # banned: an admin, to show a ban outweighs that
PHOTO = (ASSETS / "sample_character.png").read_bytes()
ACTOR_OF = {Role.OWNER: ALICE, Role.ADMIN: MOD, Role.OTHER: BOB, Role.BANNED: CAROL}

Attempt = Callable[[], Awaitable[object]]


class World:
    """Alice, an admin, Bob and banned Carol in one community; makes things owned by whoever a role needs."""

    def __init__(self, h: Harness, service: CastService) -> None:
        self.h, self.service = h, service
        self.names = itertools.count()
        self.delivered: dict[str, str] = {}

    def owner(self, role: Role) -> Actor:
        """Whose thing `role` acts on: the banned actor's own, else Alice's."""
        return CAROL if role == Role.BANNED else ALICE

    async def as_unbanned(self, actor: Actor, make: Callable[[], Awaitable[str]]) -> str:
        banned = actor == CAROL
        if banned:
            await self.service.ban(MOD, PLACE, CAROL.user_id, banned=False)
        try:
            return await make()
        finally:
            if banned:
                await self.service.ban(MOD, PLACE, CAROL.user_id)

    async def character(self, owner: Actor) -> str:
        name = f"char-{next(self.names)}"

        async def make() -> str:
            await self.service.save_character(owner, PLACE, name=name, image=PHOTO, consent=True)
            return name
        return await self.as_unbanned(owner, make)

    async def job(self, owner: Actor, *, deliver: bool) -> str:
        if deliver and owner.user_id in self.delivered:
            return self.delivered[owner.user_id]

        async def make() -> str:
            return (await self.service.submit(self.h.request(owner.user_id))).job_id
        job_id = await self.as_unbanned(owner, make)
        if deliver:
            await self.h.run_until_state(job_id, JobState.DELIVERED)
            self.delivered[owner.user_id] = job_id
        return job_id

    async def snapshot(self) -> tuple:
        """What a refused action must leave alone: jobs, ledger, characters, policy, bans."""
        counts = await self.h.store.job_counts(scope_id=PLACE.scope_id)
        chars = await self.service.book.list(scope_id=PLACE.scope_id, limit=100)
        banned = [await self.h.store.is_banned(scope_id=PLACE.scope_id, platform="console", user_id=f"dave-{role}")
                  for role in ROLES]
        return (sum(counts.values()), counts.get("cancelled", 0), await self.h.store.ledger_totals(),
                sorted((c.name, c.owner_id) for c in chars), await self.h.store.policy(PLACE.scope_id), banned)


async def _account(w: World, action: Action, role: Role) -> Attempt:
    """Generate, quota, history, forget-me: the actor's own account."""
    s, actor = w.service, ACTOR_OF[role]
    if action in (Action.VIEW_HISTORY, Action.FORGET_ME):
        await w.job(actor, deliver=True)

    async def attempt() -> object:
        if action == Action.GENERATE:
            view = await s.submit(w.h.request(actor.user_id))
            assert view.owner_id == actor.user_id and view.state == JobState.ACCEPTED
            await w.h.run_until_state(view.job_id, JobState.DELIVERED)  # settled: no charge lands mid-snapshot
        elif action == Action.FORGET_ME:
            assert (await s.forget_me(actor, PLACE)).jobs >= 1
            assert await s.history(actor, PLACE) == []
        elif action == Action.VIEW_QUOTA:
            assert (await s.quota(actor, PLACE)).banned == (role == Role.BANNED)
        else:
            assert [v.owner_id for v in await s.history(actor, PLACE)] == [actor.user_id]
    return attempt


async def _character(w: World, action: Action, role: Role) -> Attempt:
    """Characters: a pending save (Alice's, confirmed by the actor) or a saved one owned for the role."""
    s, actor, owner = w.service, ACTOR_OF[role], w.owner(role)
    name = "" if action == Action.CHARACTER_SAVE else await w.character(owner)

    async def attempt() -> object:
        if action == Action.CHARACTER_SAVE:
            saved = await s.save_character(owner, PLACE, name=f"new-{role}", image=PHOTO, consent=True,
                                           confirmed_by=actor)
            assert saved.owner_id == owner.user_id
        elif action == Action.CHARACTER_RENAME:
            assert (await s.rename_character(actor, PLACE, name, f"{name}-x")).name == f"{name}-x"
        elif action == Action.CHARACTER_DELETE:
            await s.delete_character(actor, PLACE, name)
            assert name not in [c.name for c in await s.book.list(scope_id=PLACE.scope_id, limit=100)]
        elif action == Action.CHARACTER_SHOW:
            assert (await s.character(actor, PLACE, name))[1]
        else:
            assert name in [c.name for c in await s.characters(actor, PLACE, limit=100)]
    return attempt


async def _job(w: World, action: Action, role: Role) -> Attempt:
    """A job owned for the role: running for a cancel, delivered for the result buttons."""
    s, actor = w.service, ACTOR_OF[role]
    job_id = await w.job(w.owner(role), deliver=action != Action.CANCEL)
    key = f"reroll-{next(w.names)}"

    async def attempt() -> object:
        if action == Action.CANCEL:
            await s.cancel(actor, PLACE, job_id)
            assert await w.h.state(job_id) == JobState.CANCELLED
        elif action in (Action.REROLL, Action.REROLL_SAME_SEED):
            new = await s.reroll(actor, PLACE, job_id, same_seed=action == Action.REROLL_SAME_SEED, idem_key=key,
                                 reply_ref="ref-reroll")
            assert new.job_id != job_id and new.owner_id == actor.user_id
            await w.h.run_until_state(new.job_id, JobState.DELIVERED)  # settled: no charge lands mid-snapshot
        elif action == Action.SAVE_FROM_JOB:
            saved = await s.save_character_from_job(actor, PLACE, job_id=job_id, name=key, consent=True)
            assert saved.owner_id == actor.user_id
        elif action == Action.ORIGINALS:
            assert await s.outputs(actor, PLACE, job_id)
        elif action == Action.REPORT:
            assert (await AuditDesk(s).report(actor, PLACE, job_id)).job_id == job_id
        else:
            assert (await AuditDesk(s).remove(actor, PLACE, job_id)).job_id == job_id
    return attempt


async def _admin(w: World, action: Action, role: Role) -> Attempt:
    s, actor = w.service, ACTOR_OF[role]
    units = 7 + ROLES.index(role)  # differs per role, so a wrongly allowed change would show
    if action == Action.ADMIN_LOG:
        await w.job(ALICE, deliver=True)  # something to read

    async def attempt() -> object:
        if action == Action.ADMIN_QUOTA:
            await s.update_policy(actor, PLACE, daily_units=units)
            assert (await w.h.store.policy(PLACE.scope_id)).daily_units == units
        elif action == Action.ADMIN_BAN:
            await s.ban(actor, PLACE, f"dave-{role}")
            assert await w.h.store.is_banned(scope_id=PLACE.scope_id, platform="console", user_id=f"dave-{role}")
        elif action == Action.ADMIN_RATING:
            flagged = ("withhold", "spoiler")[ROLES.index(role) % 2]
            shown = await s.rating(actor, PLACE, AdminRating(rating="nsfw", flagged=flagged))
            assert (shown.rating, shown.flagged) == ("nsfw", flagged)
        elif action == Action.ADMIN_FILTER:
            await (await s.prompt_filters(actor, PLACE)).add(actor, PLACE, FilterKind.WORD, f"word{units}")
            assert f"word{units}" in [f.value for f in await s.guard.filters.filters(PLACE.scope_id)]
        elif action == Action.ADMIN_LOG:
            page = await AuditDesk(s).log(actor, PLACE, AdminLog(), page_size=10)
            assert page.entries and all(e.prompt for e in page.entries if e.kind == "job")
        else:
            assert (await s.stats(actor, PLACE)).characters >= 1
    return attempt


SCENARIOS: dict[Action, Callable[[World, Action, Role], Awaitable[Attempt]]] = {
    Action.GENERATE: _account, Action.VIEW_QUOTA: _account, Action.VIEW_HISTORY: _account, Action.FORGET_ME: _account,
    Action.CHARACTER_SAVE: _character, Action.CHARACTER_RENAME: _character, Action.CHARACTER_DELETE: _character,
    Action.CHARACTER_SHOW: _character, Action.LIST_CHARACTERS: _character,
    Action.CANCEL: _job, Action.REROLL: _job, Action.REROLL_SAME_SEED: _job, Action.SAVE_FROM_JOB: _job,
    Action.DELETE_OUTPUT: _job, Action.ORIGINALS: _job, Action.REPORT: _job,
    Action.ADMIN_QUOTA: _admin, Action.ADMIN_BAN: _admin, Action.ADMIN_STATS: _admin, Action.ADMIN_RATING: _admin,
    Action.ADMIN_FILTER: _admin, Action.ADMIN_LOG: _admin,
}


@pytest.mark.parametrize("action", list(Action))
async def test_every_cell_of_the_table_holds_in_the_service(harness: Harness, action: Action) -> None:  # noqa: F811
    w = World(harness, await harness.start_engine())
    await w.character(CAROL)  # Carol was a member before her ban
    await w.service.ban(MOD, PLACE, CAROL.user_id)
    for role, expected in zip(ROLES, TABLE[action], strict=True):
        if expected is None:
            continue  # cannot arise; test_impossible_roles_are_refused covers it
        attempt = await SCENARIOS[action](w, action, role)  # an action without a scenario fails here
        before = await w.snapshot()
        try:
            await attempt()
        except NotAllowed as refusal:
            assert not expected, f"{action} by {role} was refused: {refusal}"
            assert (refusal.action, refusal.role) == (action.value, role.value)
            assert await w.snapshot() == before, f"refused {action} by {role} changed something"
        else:
            assert expected, f"{action} by {role} was allowed"


def test_impossible_roles_are_refused() -> None:
    impossible = [(a, r) for a in Action for r, cell in zip(ROLES, TABLE[a], strict=True) if cell is None]
    assert impossible and not any(decide(a, r) for a, r in impossible)


def test_roles_follow_ownership_and_a_ban_outweighs_admin() -> None:
    assert role_of(MOD, owner_id="mod", banned=False) == Role.OWNER  # an admin's own job: owner
    assert role_of(MOD, owner_id="alice", banned=False) == Role.ADMIN
    assert role_of(MOD, owner_id=None, banned=False) == Role.ADMIN
    assert role_of(BOB, owner_id=None, banned=False) == Role.OTHER
    assert role_of(CAROL, owner_id="carol", banned=True) == Role.BANNED
    assert role_of(CAROL, owner_id=None, banned=True) == Role.BANNED  # no admin powers while banned
    assert role_of(CAROL, owner_id="alice", banned=True) == Role.OTHER  # someone else's: no rights at all


def test_refusals_say_who_may() -> None:
    with pytest.raises(NotAllowed, match="Only the person who started this job or a community admin can cancel"):
        authorize(Action.CANCEL, Role.OTHER)
    with pytest.raises(NotAllowed, match="admins may cancel or delete it, not act in its owner's name"):
        authorize(Action.REROLL, Role.ADMIN)
    with pytest.raises(NotAllowed, match="banned from castbot in this community, so you can't generate"):
        authorize(Action.GENERATE, Role.BANNED)


def test_the_docs_table_is_the_code_table() -> None:
    cell = {"yes": True, "no": False, "—": None}
    rows: dict[str, tuple[bool | None, ...]] = {}
    for line in DOC.read_text().splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(parts) == 5 and parts[0] not in ("action", "---"):
            rows[parts[0]] = tuple(cell[p] for p in parts[1:])
        elif line.startswith("| action"):
            assert parts[1:] == [r.value for r in ROLES]
    assert rows == {a.value: cells for a, cells in TABLE.items()}
    assert all(re.fullmatch(r"[a-z_]+", name) for name in rows)
