"""The platform-neutral service the command router calls. Adapters never touch the store or Segmind.

Every method that acts takes the actor and place and authorizes there (core/permissions.py). `precheck`
validates a generation before any download and `submit_prepared` writes the job (a replayed event id
finds the existing job: charged once). Progress goes back through each platform's `Messenger`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.catalog import SEED_MAX, Model, get_model
from core.commands.answers import ForgetPreview, Forgotten
from core.commands.precheck import Prepared, command_for_model, prepare
from core.commands.types import Generate, ImageSource
from core.errors import ConsentRequired, NotAllowed, NotFoundError
from core.files import write_atomic
from core.images import normalize_image
from core.jobs.messenger import Messenger
from core.jobs.outputs import load_outputs
from core.permissions import Action, authorize, role_of
from core.privacy import Scrubber
from core.store.sqlite import NewJob
from core.types import Actor, CharacterView, ImageRole, JobView, OutputImage, Place, QuotaView, Request, StatsView

if TYPE_CHECKING:
    from core.characters import CharacterBook
    from core.jobs.engine import JobEngine
    from core.store.quota import Policy
    from core.store.sqlite import JobRecord, SqliteStore


class CastService:
    """What adapters call. Validation, characters, quota and permissions meet the engine here."""

    def __init__(self, *, store: SqliteStore, book: CharacterBook, engine: JobEngine, data_dir: Path,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.book = book
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.rng = rng or random.Random()

    def register_messenger(self, platform: str, messenger: Messenger, *, reshow_finals: bool = True) -> None:
        self.engine.register_messenger(platform, messenger, reshow_finals=reshow_finals)

    # --- jobs ------------------------------------------------------------------------------------

    async def submit(self, request: Request) -> JobView:
        """A request with its images already in hand (tests, the chaos child, programmatic use): the same precheck,
        then the job is written."""
        command = Generate(command=command_for_model(request.model), model=request.model, prompt=request.prompt,
                           negative=request.negative, character=request.character_name,
                           options=dict(request.params))
        sources = [ImageSource(image, role=image.role, filename=image.filename, mime=image.mime,
                               size=len(image.data)) for image in request.images]
        prepared = await self.precheck(request.actor, request.place, command, sources)
        images = {role: (source.handle.data, source.filename) for role, source in prepared.images}
        return await self.submit_prepared(request.actor, request.place, prepared, images,
                                          event_id=request.idem_key, reply_ref=request.reply_ref)

    async def precheck(self, actor: Actor, place: Place, command: Generate,
                       sources: Sequence[ImageSource] = ()) -> Prepared:
        """Options, ranges, model, saved character and required images, before any download or status message.

        Raises core.errors' data-carrying errors; the returned value carries the payload, built once.
        """
        await self._authorize(Action.GENERATE, actor, place, owner_id=actor.user_id)
        character = None
        if command.character:
            character = await self.book.get(scope_id=place.scope_id, name=command.character)
        return prepare(command, sources, character=character, rng=self.rng)

    async def submit_prepared(self, actor: Actor, place: Place, prepared: Prepared,
                              images: Mapping[ImageRole, tuple[bytes, str]], *, event_id: str = "",
                              reply_ref: str = "") -> JobView:
        """Write the job for a precheck result; `images` holds the downloaded bytes (and filename) per slot."""
        model, payload = prepared.model, prepared.payload
        inputs: dict[str, str] = {}
        if prepared.character is not None:
            inputs[ImageRole.CHARACTER] = prepared.character.image_path
        for role, (data, filename) in images.items():
            inputs[role] = await self._store_input(data, filename)
        new = NewJob(
            idem_key=event_id or f"{actor.platform}:{self.rng.getrandbits(64):x}",
            platform=actor.platform, user_id=actor.user_id, user_name=actor.name,
            scope_id=place.scope_id, chat_id=place.chat_id, model=model.key,
            prompt=prepared.command.prompt, payload=payload, inputs={str(k): v for k, v in inputs.items()},
            cost=await self._cost(place.scope_id, model, payload), reply_ref=reply_ref,
            character_id=prepared.character.character_id if prepared.character else None,
            seed=payload.get(model.seed_field) if model.seed_field else None, is_admin=actor.is_admin,
        )
        job, created = await self.store.create_job(new)
        if not created:
            return self.engine.view(job)
        return await self.engine.enqueue(job)

    async def _cost(self, scope_id: str, model: Model, payload: dict) -> int:
        policy = await self.store.policy(scope_id)
        return model.output_count(payload) * policy.weight_for(model.key, model.weight)

    async def _store_input(self, data: bytes, filename: str) -> str:
        image = await asyncio.to_thread(normalize_image, data, filename=filename)
        path = self.data_dir / "inputs" / f"{image.sha256}{image.extension}"
        await asyncio.to_thread(write_atomic, path, image.data, once=True)
        return str(path)

    async def _authorize(self, action: Action, actor: Actor, place: Place, *, owner_id: str | None) -> None:
        """The one permission check: `owner_id` owns the thing acted on (None: the community itself)."""
        banned = await self.store.is_banned(scope_id=place.scope_id, platform=actor.platform, user_id=actor.user_id)
        authorize(action, role_of(actor, owner_id=owner_id, banned=banned))

    async def _job_for(self, action: Action, actor: Actor, place: Place, job_id: str) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None or job.scope_id != place.scope_id or job.platform != actor.platform:
            raise NotFoundError("That job doesn't exist here.")
        await self._authorize(action, actor, place, owner_id=job.user_id)
        return job

    # the same one check for core modules beside the service (core.moderation.audit)
    authorize, job_for = _authorize, _job_for

    async def check(self, action: Action, actor: Actor, place: Place, job_id: str) -> None:
        """Ask before acting on a job (e.g. before opening a dialog): NotAllowed if the actor may not."""
        await self._job_for(action, actor, place, job_id)

    async def cancel(self, actor: Actor, place: Place, job_id: str | None = None) -> JobView:
        if job_id is None:
            mine = [j for j in self.engine.active_jobs()
                    if j.user_id == actor.user_id and j.platform == actor.platform and j.scope_id == place.scope_id
                    and j.state.is_cancellable]
            if not mine:
                raise NotFoundError("You have no running job here to cancel.")
            job_id = max(mine, key=lambda j: j.created_at).job_id
        await self._job_for(Action.CANCEL, actor, place, job_id)
        return self.engine.view(await self.engine.cancel(job_id))

    async def reroll(self, actor: Actor, place: Place, job_id: str, *, same_seed: bool, idem_key: str,
                     reply_ref: str) -> JobView:
        old = await self._job_for(Action.REROLL_SAME_SEED if same_seed else Action.REROLL, actor, place, job_id)
        if old.character_id and not await self.book.exists(old.character_id):
            # its face is gone with it (and must stay gone): the job names no character, so neither do we
            raise NotFoundError("The saved character this image was made with has been deleted, so it can't be "
                                "re-rolled. Save the character again (or pick another) and run the command anew.")
        model = get_model(old.model)
        payload = dict(old.payload)
        if model.seed_field and not same_seed:
            payload[model.seed_field] = self.rng.randint(0, SEED_MAX)
        new = NewJob(
            idem_key=idem_key, platform=actor.platform, user_id=actor.user_id, user_name=actor.name,
            scope_id=place.scope_id, chat_id=place.chat_id, model=old.model, prompt=old.prompt, payload=payload,
            inputs=dict(old.inputs), cost=await self._cost(place.scope_id, model, payload), reply_ref=reply_ref,
            character_id=old.character_id, seed=payload.get(model.seed_field) if model.seed_field else None,
            is_admin=actor.is_admin,
        )
        job, created = await self.store.create_job(new)
        return await self.engine.enqueue(job) if created else self.engine.view(job)

    async def rebind_reply(self, job_id: str, reply_ref: str) -> None:
        """An adapter posted the job's status message after the job was written: remember where it is."""
        job = await self.store.update_job(job_id, reply_ref=reply_ref)
        self.engine.refresh(job)

    async def job_view(self, job_id: str) -> JobView:
        job = await self.store.get_job(job_id)
        if job is None:
            raise NotFoundError("That job doesn't exist.")
        return self.engine.view(job)

    async def outputs(self, actor: Actor, place: Place, job_id: str) -> list[OutputImage]:
        """The result images again, as files ("originals")."""
        job = await self._job_for(Action.ORIGINALS, actor, place, job_id)
        if not job.outputs:
            raise NotFoundError("That job has no images.")
        return await load_outputs(job)

    # --- characters ------------------------------------------------------------------------------

    async def save_character(self, actor: Actor, place: Place, *, name: str, image: bytes, description: str = "",
                             consent: bool, confirmed_by: Actor | None = None) -> CharacterView:
        """`confirmed_by`: who pressed a separate consent button; only `actor` themselves may."""
        await self._authorize(Action.CHARACTER_SAVE, confirmed_by or actor, place, owner_id=actor.user_id)
        return await self.book.save(platform=actor.platform, scope_id=place.scope_id, owner_id=actor.user_id,
                                    name=name, image=image, description=description, consent=consent,
                                    consent_how="button" if confirmed_by else "flag")

    async def save_character_from_job(self, actor: Actor, place: Place, *, job_id: str, name: str,
                                      index: int = 0, consent: bool = False,
                                      confirmed_by: Actor | None = None) -> CharacterView:
        """Raises ConsentRequired unless `consent` or the job's face is already the saver's consented one."""
        job = await self._job_for(Action.SAVE_FROM_JOB, actor, place, job_id)
        images = await load_outputs(job)
        if not 0 <= index < len(images):
            raise NotFoundError(f"That job has {len(images)} image(s); pick one of 1 to {len(images)}.")
        if consent:
            return await self.save_character(actor, place, name=name, image=images[index].data, consent=True,
                                             confirmed_by=confirmed_by)
        if not await self._own_consented_face(actor, job):
            raise ConsentRequired("Saving this face needs your confirmation that you may use it.")
        await self._authorize(Action.CHARACTER_SAVE, actor, place, owner_id=actor.user_id)
        return await self.book.save(platform=actor.platform, scope_id=place.scope_id, owner_id=actor.user_id,
                                    name=name, image=images[index].data, consent=True, consent_how="character")

    async def _own_consented_face(self, actor: Actor, job: JobRecord) -> bool:
        """Was every photo behind this job already confirmed by this saver? Only when it was made from their own
        saved character, still saved, and nothing else: a raw photo (`/imagine` with an upload, a pose or scene
        picture) was never confirmed, a deleted character's face must not come back without a fresh
        confirmation, and someone else's character was confirmed by them, not by this saver."""
        if not job.character_id:
            return False
        character = await self.book.by_id(job.character_id)
        if character is None or character.owner_id != actor.user_id or character.scope_id != job.scope_id:
            return False
        return all(path == character.image_path for path in job.inputs.values())

    async def characters(self, actor: Actor, place: Place, *, prefix: str = "",
                         limit: int = 25) -> list[CharacterView]:
        await self._authorize(Action.LIST_CHARACTERS, actor, place, owner_id=None)
        return await self.book.list(scope_id=place.scope_id, prefix=prefix, limit=limit)

    async def character(self, actor: Actor, place: Place, name: str) -> tuple[CharacterView, bytes]:
        await self._authorize(Action.CHARACTER_SHOW, actor, place, owner_id=None)
        character = await self.book.get(scope_id=place.scope_id, name=name)
        return character, await self.book.image_bytes(character)

    async def rename_character(self, actor: Actor, place: Place, name: str, new_name: str) -> CharacterView:
        character = await self.book.get(scope_id=place.scope_id, name=name)
        await self._authorize(Action.CHARACTER_RENAME, actor, place, owner_id=character.owner_id)
        return await self.book.rename(scope_id=place.scope_id, name=name, new_name=new_name)

    async def delete_character(self, actor: Actor, place: Place, name: str) -> None:
        character = await self.book.get(scope_id=place.scope_id, name=name)
        await self._authorize(Action.CHARACTER_DELETE, actor, place, owner_id=character.owner_id)
        await self.book.delete(scope_id=place.scope_id, name=name)

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

    async def history(self, actor: Actor, place: Place, *, limit: int = 10) -> list[JobView]:
        await self._authorize(Action.VIEW_HISTORY, actor, place, owner_id=actor.user_id)
        jobs = await self.store.history(scope_id=place.scope_id, user_id=actor.user_id, platform=actor.platform,
                                        limit=limit)
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

    async def saw_user(self, place: Place, username: str, user_id: str) -> None:
        """A chat adapter saw `user_id` post as @username here: an admin may then name them by it."""
        await self.store.remember_username(platform=place.platform, chat_id=place.chat_id, username=username,
                                           user_id=user_id)

    async def seen_user(self, place: Place, username: str) -> str | None:
        """The id of whoever was last seen posting as @username in this chat; None if nobody was."""
        return await self.store.seen_username(platform=place.platform, chat_id=place.chat_id, username=username)

    async def stats(self, actor: Actor, place: Place) -> StatsView:
        await self._authorize(Action.ADMIN_STATS, actor, place, owner_id=None)
        return await self.store.stats(scope_id=place.scope_id)
