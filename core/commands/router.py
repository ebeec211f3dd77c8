"""The one router: a command object in, a CastService call, a typed answer out.

An adapter's whole job: turn a platform event into `(actor, place, command, image sources)`, call
`router.handle(...)`, and format the answer (or `core.errors.word(exc, phrasing)` for a user error).
Images are fetched through the adapter's `fetch` only after the precheck passed, so a wrong flag never
costs a download or a status message. Permission decisions stay in the service.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.commands import answers as a
from core.commands import types as c
from core.commands.gate import PlaceGate
from core.commands.help import help_answer
from core.commands.precheck import check_size
from core.errors import ConsentRequired, UnknownUser, Usage
from core.image_errors import MissingImage
from core.moderation.audit import AuditDesk
from core.moderation.rules import FilterKind
from core.phrasing import TEXT, Phrasing

if TYPE_CHECKING:
    from core.service import CastService
    from core.types import Actor, Place

PAGE_SIZE = 10  # list items per page: short enough for one chat message in any markup


class CommandRouter:
    def __init__(self, service: CastService, phrasing: Phrasing = TEXT, *, page_size: int = PAGE_SIZE) -> None:
        self.service = service
        self.phrasing = phrasing
        self.page_size = page_size

    @functools.cached_property
    def gate(self) -> PlaceGate:
        return PlaceGate(self.service.store.limits)  # the one copy the store enforces in its transactions

    async def handle(self, actor: Actor, place: Place, command: c.Command, *, sources: Sequence[c.ImageSource] = (),
                     fetch: c.Fetch | None = None, event_id: str = "", reply_ref: str = "",
                     confirmed_by: Actor | None = None) -> a.Answer:
        """Run one command. `event_id` makes a replayed platform event charge once; `reply_ref` is where the
        job's status goes (both matter only for commands that start a job). `confirmed_by`: who pressed a
        separate consent button for a save that answered ConsentNeeded (core checks it is `actor`)."""
        admitted = self.gate.admit(actor, place)  # operator ids act as admins; unlisted places are refused once
        if isinstance(admitted, a.Ignored):
            return admitted
        actor = admitted
        # Before any work: a flooder costs one SlowDown, then nothing. The presser of a consent button is who acted.
        limiter = self.service.limiter
        if limiter is not None and (throttled := limiter.admit(confirmed_by or actor)) is not None:
            return throttled
        s, ph = self.service, self.phrasing
        match command:
            case c.Generate():
                return await self._generate(actor, place, command, sources, fetch, event_id, reply_ref)
            case c.CharacterSave():
                return await self._save(actor, place, command, sources, fetch, confirmed_by)
            case c.CharacterList(prefix=prefix, page=page):
                found = await s.characters(actor, place, prefix=prefix, **self._page(page))
                return a.CharacterPage(tuple(found[:self.page_size]), prefix, page, len(found) > self.page_size)
            case c.CharacterShow(name=name):
                view, image = await s.character(actor, place, name)
                return a.CharacterShown(view, image)
            case c.CharacterRename(name=name, new_name=new_name):
                return a.Renamed(name, await s.rename_character(actor, place, name, new_name))
            case c.CharacterDelete(name=name):
                await s.delete_character(actor, place, name)
                return a.Deleted(name)
            case c.Quota():
                return a.QuotaShown(await s.quota(actor, place), actor.user_id)
            case c.History(page=page):
                jobs = await s.history(actor, place, **self._page(page))
                return a.HistoryPage(tuple(jobs[:self.page_size]), page, len(jobs) > self.page_size)
            case c.Cancel(job_id=job_id):
                return a.Cancelled(await s.cancel(actor, place, job_id))
            case c.Help(topic=topic):
                return help_answer(topic, ph, weights=await s.weights(place))
            case c.Start():
                return help_answer(None, ph, start=True)
            case c.AdminQuota():
                return await self._admin_quota(actor, place, command)
            case c.AdminBan(user=user) | c.AdminUnban(user=user):
                banned = isinstance(command, c.AdminBan)
                user_id = _resolved(user)
                await s.ban(actor, place, user_id, banned=banned)
                return a.BanChanged(user_id, banned)
            case c.AdminStats():
                return a.Stats(await s.stats(actor, place))
            case c.AdminRating():
                return await s.rating(actor, place, command)
            case c.AdminFilter():
                return await self._admin_filter(actor, place, command)
            case c.Reroll(job_id=job_id, same_seed=same_seed):
                # Without an event id every press is its own job (an empty key would make them all one).
                key = event_id or f"{actor.platform}:press:{uuid.uuid4().hex}"
                view = await s.reroll(actor, place, job_id, same_seed=same_seed, idem_key=key, reply_ref=reply_ref)
                return a.JobAccepted(view)
            case c.SaveFromJob(job_id=job_id, name=name, index=index, consent=consent):
                try:
                    saved = await s.save_character_from_job(actor, place, job_id=job_id, name=name, index=index,
                                                            consent=consent, confirmed_by=confirmed_by)
                except ConsentRequired:  # nothing stored: the same command again with consent saves it
                    return a.ConsentNeeded(name, "", job_id=job_id)
                return a.CharacterSaved(saved)
            case c.DeleteOutput(job_id=job_id, ban=ban):  # the one removal path: the button and /admin remove
                return await AuditDesk(s).remove(actor, place, job_id, ban=ban)
            case c.AdminLog():
                return await AuditDesk(s).log(actor, place, command, page_size=self.page_size)
            case c.Report(job_id=job_id):
                return await AuditDesk(s).report(actor, place, job_id)
            case c.ForgetMe(confirm=False):
                return await s.forget_preview(actor, place)
            case c.ForgetMe(confirm=True):
                return await s.forget_me(actor, place)
            case c.Originals(job_id=job_id):
                return a.OriginalFiles(job_id, tuple(await s.outputs(actor, place, job_id)))
            case c.Invalid(error=error):
                raise error
        raise TypeError(f"not a command: {command!r}")

    async def _generate(self, actor: Actor, place: Place, command: c.Generate, sources: Sequence[c.ImageSource],
                        fetch: c.Fetch | None, event_id: str, reply_ref: str) -> a.JobAccepted:
        prepared = await self.service.precheck(actor, place, command, sources)
        images = {role: (await _fetch(fetch, source), source.filename) for role, source in prepared.images}
        view = await self.service.submit_prepared(actor, place, prepared, images, event_id=event_id,
                                                  reply_ref=reply_ref)
        return a.JobAccepted(view)

    async def _save(self, actor: Actor, place: Place, command: c.CharacterSave, sources: Sequence[c.ImageSource],
                    fetch: c.Fetch | None, confirmed_by: Actor | None) -> a.CharacterSaved | a.ConsentNeeded:
        if not sources:
            raise MissingImage(command="character save", model="", role="character", saved_allowed=False)
        source = sources[0]
        check_size(source)
        if not command.consent:
            return a.ConsentNeeded(command.name, command.description)
        image = await _fetch(fetch, source)
        saved = await self.service.save_character(actor, place, name=command.name, image=image,
                                                  description=command.description, consent=True,
                                                  confirmed_by=confirmed_by)
        return a.CharacterSaved(saved)

    async def _admin_quota(self, actor: Actor, place: Place, command: c.AdminQuota) -> a.Answer:
        changes = command.policy_changes()
        if command.user is not None and not changes:
            user_id = _resolved(command.user)
            return a.QuotaShown(await self.service.member_quota(actor, place, user_id), user_id)
        if command.user is not None:
            # Settings are per community: there is no per-member allowance to set, so say so, not ignore --user.
            raise Usage(command="admin", usage="/admin quota --user USER alone, to see one member's quota; "
                        "the other settings apply to the whole community.")
        policy = await self.service.update_policy(actor, place, **changes)
        return a.PolicyUpdated(daily_units=policy.daily_units, pool_units=policy.pool_units, window=policy.window,
                               timezone=policy.timezone, character_limit=policy.character_limit,
                               unlimited_admins=policy.unlimited_admins)

    async def _admin_filter(self, actor: Actor, place: Place, command: c.AdminFilter) -> a.Answer:
        guard = await self.service.prompt_filters(actor, place)
        kind = FilterKind.PATTERN if command.pattern else FilterKind.WORD
        if command.action == "add":
            added, new = await guard.add(actor, place, kind, command.value)
            return a.FilterChanged(kind.value, added.value, added=True, changed=new)
        if command.action == "remove":
            removed = await guard.remove(actor, place, kind, command.value)
            return a.FilterChanged(kind.value, removed.value, added=False)
        items, more = await guard.page(place, page=command.page, size=self.page_size)
        return a.FilterPage(tuple(items), command.page, more)

    def _page(self, page: int) -> dict[str, int]:
        """One page's rows, read from where the page starts, and one more to know whether there is more
        (reading every earlier page's rows each time cut lists at the store's 100-row cap)."""
        return {"offset": (page - 1) * self.page_size, "limit": self.page_size + 1}


def _resolved(user: c.UserRef) -> str:
    """The user's id; an unresolved name (an unknown @name, nothing at all) is refused, never stored."""
    if not user.resolved:
        raise UnknownUser(text=user.text)
    assert user.user_id is not None
    return user.user_id


async def _fetch(fetch: c.Fetch | None, source: c.ImageSource) -> bytes:
    if fetch is None:
        raise TypeError("an ImageSource was given without a fetch function")
    return await fetch(source)
