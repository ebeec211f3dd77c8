"""The community's own business, for CastService (core.service): quota, history, policy, bans, ratings,
usernames seen, forget-me — and the one permission check every service method goes through.

A base class rather than a second service the router must know: adapters keep calling one object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.commands.answers import ForgetPreview, Forgotten, RatingShown
from core.commands.types import AdminRating
from core.errors import NotAllowed
from core.permissions import Action, authorize, role_of
from core.privacy import Scrubber
from core.types import Actor, JobView, Place, QuotaView, StatsView

if TYPE_CHECKING:
    from core.jobs.engine import JobEngine
    from core.moderation.guard import PromptGuard
    from core.moderation.places import PlaceRatings
    from core.store.quota import Policy
    from core.store.sqlite import SqliteStore


class CommunityService:
    store: SqliteStore
    engine: JobEngine
    data_dir: Path
    ratings: PlaceRatings
    guard: PromptGuard

    async def _authorize(self, action: Action, actor: Actor, place: Place, *, owner_id: str | None) -> None:
        """The one permission check: `owner_id` owns the thing acted on (None: the community itself)."""
        banned = await self.store.is_banned(scope_id=place.scope_id, platform=actor.platform, user_id=actor.user_id)
        authorize(action, role_of(actor, owner_id=owner_id, banned=banned))

    # the same one check for core modules beside the service (core.moderation.audit)
    authorize = _authorize

    # --- forget me (core/privacy.py does the removing) ---------------------------------------------

    async def forget_preview(self, actor: Actor, place: Place) -> ForgetPreview:
        await self._authorize(Action.FORGET_ME, actor, place, owner_id=actor.user_id)
        characters, jobs = await Scrubber(self.store, self.data_dir).count_user(actor.platform, actor.user_id)
        return ForgetPreview(characters=characters, jobs=jobs)

    async def forget_me(self, actor: Actor, place: Place) -> Forgotten:
        await self._authorize(Action.FORGET_ME, actor, place, owner_id=actor.user_id)
        removed = await Scrubber(self.store, self.data_dir).forget_user(actor.platform, actor.user_id)
        return Forgotten(characters=removed.characters, jobs=removed.jobs, files=removed.files,
                         usernames=removed.usernames, kept=tuple(removed.kept))

    # --- quota, history, admin -------------------------------------------------------------------

    async def quota(self, actor: Actor, place: Place) -> QuotaView:
        await self._authorize(Action.VIEW_QUOTA, actor, place, owner_id=actor.user_id)
        return await self.store.quota(platform=actor.platform, user_id=actor.user_id, scope_id=place.scope_id,
                                      is_admin=actor.is_admin)

    async def history(self, actor: Actor, place: Place, *, offset: int = 0, limit: int = 10) -> list[JobView]:
        await self._authorize(Action.VIEW_HISTORY, actor, place, owner_id=actor.user_id)
        jobs = await self.store.history(scope_id=place.scope_id, user_id=actor.user_id, platform=actor.platform,
                                        offset=offset, limit=limit)
        return [self.engine.view(job) for job in jobs]

    async def update_policy(self, actor: Actor, place: Place, **changes: Any) -> Policy:
        await self._authorize(Action.ADMIN_QUOTA, actor, place, owner_id=None)
        return await self.store.set_policy(place.scope_id, **changes)

    async def member_quota(self, actor: Actor, place: Place, user_id: str) -> QuotaView:
        """An admin looks at one member's quota."""
        await self._authorize(Action.ADMIN_QUOTA, actor, place, owner_id=None)
        return await self.store.quota(platform=actor.platform, user_id=user_id, scope_id=place.scope_id,
                                      is_admin=False)

    async def ban(self, actor: Actor, place: Place, user_id: str, *, banned: bool = True) -> None:
        await self._authorize(Action.ADMIN_BAN, actor, place, owner_id=None)
        if user_id == actor.user_id:  # an admin locking themselves out could not undo it
            raise NotAllowed("You can't ban yourself.", action=Action.ADMIN_BAN.value)
        await self.store.set_ban(scope_id=place.scope_id, platform=actor.platform, user_id=user_id, banned=banned)

    async def prompt_filters(self, actor: Actor, place: Place) -> PromptGuard:
        await self._authorize(Action.ADMIN_FILTER, actor, place, owner_id=None)  # then an admin may change them
        return self.guard

    async def saw_user(self, place: Place, username: str, user_id: str) -> None:
        """A chat adapter saw `user_id` post as @username here: an admin may then name them by it."""
        await self.store.remember_username(platform=place.platform, chat_id=place.chat_id, username=username,
                                           user_id=user_id)

    async def seen_user(self, place: Place, username: str) -> str | None:
        """The id of whoever was last seen posting as @username in this chat; None if nobody was."""
        return await self.store.seen_username(platform=place.platform, chat_id=place.chat_id, username=username)

    async def rating(self, actor: Actor, place: Place, command: AdminRating) -> RatingShown:
        """Anyone may see the chat's rating; changing it (or the flagged-image choice) is for admins."""
        if command.rating is not None or command.flagged is not None:
            await self._authorize(Action.ADMIN_RATING, actor, place, owner_id=None)
        return await self.ratings.show_or_change(actor, place, rating=command.rating, flagged=command.flagged)

    async def stats(self, actor: Actor, place: Place) -> StatsView:
        await self._authorize(Action.ADMIN_STATS, actor, place, owner_id=None)
        return await self.store.stats(scope_id=place.scope_id)
