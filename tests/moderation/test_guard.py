"""The prompt rules through the real CastService and router (SQLite store, simulator, FakeClock): a refused
prompt writes no job and charges nothing, re-rolls and character names are screened too, the moderation log
names the rule and never the text, and no community can remove the operator's rule."""

from __future__ import annotations

import dataclasses

import pytest

from core.commands import answers as a
from core.commands import types as c
from core.commands.router import CommandRouter
from core.errors import NotAllowed, NotFoundError
from core.moderation.errors import FilterRefused, PromptBlocked
from core.moderation.guard import PromptGuard
from core.moderation.rules import MAX_PATTERNS, FilterKind, RuleKind, parse_blocklist
from core.privacy import Scrubber
from core.store.modlog import ModLog
from core.types import Actor, JobState, Place
from tests.engine.conftest import ASSETS, Harness, engine_config, harness  # noqa: F401

PLACE = Place("console", "g1", "chat-g1")
ALICE = Actor("console", "alice", "alice")
MOD = Actor("console", "mod", "mod", is_admin=True)
PHOTO = (ASSETS / "sample_character.png").read_bytes()


async def _settled(h: Harness) -> tuple:
    counts = await h.store.job_counts(scope_id=PLACE.scope_id)
    return sum(counts.values()), await h.store.ledger_totals()


async def test_a_blocked_prompt_writes_no_job_and_charges_nothing(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    router = CommandRouter(service)
    assert isinstance(await router.handle(MOD, PLACE, c.AdminFilter("add", "Banana")), a.FilterChanged)
    before = await _settled(harness)
    for prompt, rule in (("a b4n4n4 split", "word"), ("n.u.d.e k1d", "operator_safety")):
        with pytest.raises(PromptBlocked) as refused:
            await service.submit(dataclasses.replace(harness.request(), prompt=prompt))
        assert refused.value.rule == rule
        assert prompt not in str(refused.value) and "Nothing was charged" in str(refused.value)
    assert await _settled(harness) == before
    events = await ModLog(harness.store).events(scope_id=PLACE.scope_id, kinds=("prompt_blocked",))
    assert [e.detail for e in events] == ["operator_safety (prompt)", "word (prompt)"]
    assert all("b4n4n4" not in e.detail and "k1d" not in e.detail for e in events)


async def test_a_reroll_of_a_prompt_a_new_filter_blocks_is_refused(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    view = await service.submit(harness.request())  # "on a beach"
    await harness.run_until_state(view.job_id, JobState.DELIVERED)
    await (await service.prompt_filters(MOD, PLACE)).add(MOD, PLACE, FilterKind.PATTERN, r"\bbea(ch|ches)\b")
    before = await _settled(harness)
    with pytest.raises(PromptBlocked) as refused:
        await service.reroll(Actor("console", "alice", "alice"), PLACE, view.job_id, same_seed=False,
                             idem_key="again", reply_ref="r")
    assert (refused.value.rule, refused.value.field) == ("pattern", "reroll")
    assert await _settled(harness) == before


async def test_a_characters_description_counts_with_the_prompt(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    await service.save_character(ALICE, PLACE, name="Pip", image=PHOTO, description="a ten year old", consent=True)
    with pytest.raises(PromptBlocked):  # each part is innocent alone; together they are not
        await service.precheck(ALICE, PLACE, c.Generate("imagine", prompt="nude on a beach", character="Pip"))
    await service.precheck(ALICE, PLACE, c.Generate("imagine", prompt="on a beach", character="Pip"))


async def test_character_names_and_descriptions_are_screened_on_save_and_rename(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    await (await service.prompt_filters(MOD, PLACE)).add(MOD, PLACE, FilterKind.WORD, "banana")
    with pytest.raises(PromptBlocked):
        await service.save_character(ALICE, PLACE, name="B4nana", image=PHOTO, consent=True)
    with pytest.raises(PromptBlocked):
        await service.save_character(ALICE, PLACE, name="Luna", image=PHOTO, description="bananas", consent=True)
    await service.save_character(ALICE, PLACE, name="Luna", image=PHOTO, consent=True)
    with pytest.raises(PromptBlocked):
        await service.rename_character(ALICE, PLACE, "Luna", "Banana")
    assert [ch.name for ch in await service.book.list(scope_id=PLACE.scope_id)] == ["Luna"]


async def test_admins_add_list_and_remove_filters_members_cannot(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    router = CommandRouter(service, page_size=2)
    with pytest.raises(NotAllowed):
        await router.handle(ALICE, PLACE, c.AdminFilter("add", "banana"))
    for value, pattern in (("banana", False), ("kiwi", False), (r"drag(on|in)fly", True)):
        await router.handle(MOD, PLACE, c.AdminFilter("add", value, pattern=pattern))
    again = await router.handle(MOD, PLACE, c.AdminFilter("add", "B4NANA"))
    assert isinstance(again, a.FilterChanged) and not again.changed
    first = await router.handle(MOD, PLACE, c.AdminFilter("list"))
    second = await router.handle(MOD, PLACE, c.AdminFilter("list", page=2))
    assert isinstance(first, a.FilterPage) and isinstance(second, a.FilterPage)
    assert [f.value for f in first.filters] == ["banana", "kiwi"] and first.has_more
    assert [f.value for f in second.filters] == ["drag(on|in)fly"] and not second.has_more
    await router.handle(MOD, PLACE, c.AdminFilter("remove", "drag(on|in)fly", pattern=True))
    assert await service.guard.rule_for(PLACE.scope_id, "a dragonfly") is None
    with pytest.raises(NotFoundError):  # the operator's rule is not a community filter: nothing to remove
        await router.handle(MOD, PLACE, c.AdminFilter("remove", "nude"))
    with pytest.raises(PromptBlocked):
        await service.precheck(MOD, PLACE, c.Generate("imagine", prompt="nude kid"), ())


async def test_the_number_of_patterns_is_bounded(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    guard = await service.prompt_filters(MOD, PLACE)
    for i in range(MAX_PATTERNS):
        await guard.add(MOD, PLACE, FilterKind.PATTERN, f"p{i}x")
    with pytest.raises(FilterRefused, match="remove one first"):
        await guard.add(MOD, PLACE, FilterKind.PATTERN, "one more")
    await guard.add(MOD, PLACE, FilterKind.WORD, "words have their own limit")


async def test_the_operators_blocklist_applies_everywhere_and_no_admin_removes_it(harness: Harness) -> None:  # noqa: F811
    await harness.start_engine()
    guard = PromptGuard(harness.store, operator_list=parse_blocklist(["cherry pie", r"re:\bk[i1]wi\b"]))
    assert await guard.rule_for("any-community", "a CHERRY PIE") == RuleKind.OPERATOR_LIST
    assert await guard.rule_for("another", "a k1wi") == RuleKind.OPERATOR_LIST
    assert await guard.rule_for("another", "a cherry tart") is None
    with pytest.raises(NotFoundError):
        await guard.remove(MOD, PLACE, FilterKind.WORD, "cherry pie")
    assert await guard.rule_for(PLACE.scope_id, "cherry pie") == RuleKind.OPERATOR_LIST


async def test_an_operators_purge_of_a_community_takes_its_filters(harness: Harness) -> None:  # noqa: F811
    service = await harness.start_engine()
    await (await service.prompt_filters(MOD, PLACE)).add(MOD, PLACE, FilterKind.WORD, "banana")
    await Scrubber(harness.store, harness.data_dir).purge_scope(PLACE.scope_id)
    assert await service.guard.filters.filters(PLACE.scope_id) == []
