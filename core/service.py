"""The platform-neutral service the command router calls. Adapters never touch the store or Segmind.

Every method that acts takes the actor and place and authorizes there (core/permissions.py). `precheck` validates
a generation (and screens its prompt) before any download; `submit_prepared` writes the job (a replayed event id
finds the existing job: charged once). Progress goes back through each platform's `Messenger`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.catalog import SEED_MAX, Model, get_model
from core.commands.precheck import Prepared, command_for_model, prepare
from core.commands.types import Generate, ImageSource
from core.community import CommunityService
from core.errors import ConsentRequired, NotFoundError
from core.files import write_atomic
from core.images import normalize_image
from core.jobs.messenger import Messenger
from core.jobs.outputs import load_outputs
from core.moderation.guard import PromptGuard
from core.moderation.places import PlaceRatings
from core.moderation.ratings import with_safety_negative
from core.permissions import Action
from core.pricing import Pricing
from core.store.sqlite import NewJob
from core.types import Actor, CharacterView, ImageRole, JobView, OutputImage, Place, Request

if TYPE_CHECKING:
    from core.characters import CharacterBook
    from core.commands.ratelimit import CommandLimiter
    from core.jobs.engine import JobEngine
    from core.store.sqlite import JobRecord, SqliteStore


class CastService(CommunityService):
    """What adapters call. Validation, characters, quota and permissions meet the engine here (the community's
    own business — quota, history, policy, bans, ratings, forget-me — in the base, core.community)."""

    def __init__(self, *, store: SqliteStore, book: CharacterBook, engine: JobEngine, data_dir: Path,
                 rng: random.Random | None = None, pricing: Pricing | None = None,
                 limiter: CommandLimiter | None = None, guard: PromptGuard | None = None) -> None:
        self.store = store
        self.pricing = pricing or Pricing()  # the operator's prices (CASTBOT_MODEL_UNITS), core.pricing
        self.limiter = limiter  # the per-person command rate limit the router applies; None: unlimited
        self.guard = guard or PromptGuard(store)  # the prompt rules; the operator's minor-safety rule at least
        self.book = book
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.rng = rng or random.Random()
        self.ratings = PlaceRatings(store, clock=store.clock, gate=engine.gate)

    def register_messenger(self, platform: str, messenger: Messenger, *, reshow_finals: bool = True) -> None:
        self.engine.register_messenger(platform, messenger, reshow_finals=reshow_finals)

    # --- jobs ------------------------------------------------------------------------------------

    async def submit(self, request: Request) -> JobView:
        """A request with its images in hand (tests, the chaos child, scripts): the same precheck, then the job."""
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
        """Options, ranges, model, saved character, images and the prompt rules, before any download or status
        message. Raises core.errors' data-carrying errors; the returned value carries the payload, built once."""
        await self._authorize(Action.GENERATE, actor, place, owner_id=actor.user_id)
        character = await self.book.get(scope_id=place.scope_id, name=command.character) if command.character else None
        await self.guard.screen(actor, place, command.prompt, character.description if character else None)
        return prepare(command, sources, character=character, rng=self.rng)

    async def submit_prepared(self, actor: Actor, place: Place, prepared: Prepared,
                              images: Mapping[ImageRole, tuple[bytes, str]], *, event_id: str = "",
                              reply_ref: str = "") -> JobView:
        """Write the job for a precheck result; `images` holds the downloaded bytes (and filename) per slot."""
        rating = await self.ratings.rating(place)
        model, payload = prepared.model, with_safety_negative(prepared.model, prepared.payload, rating)
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
            rating=rating,
        )
        job, created = await self.store.create_job(new)
        if not created:
            return self.engine.view(job)
        return await self.engine.enqueue(job)

    async def _cost(self, scope_id: str, model: Model, payload: dict) -> int:
        return self.pricing.units(model, payload, (await self.store.policy(scope_id)).model_weights)

    async def weights(self, place: Place) -> dict[str, int]:
        """Units per image at default settings, per model, here: for /help's prices (core.pricing)."""
        return self.pricing.weights_for((await self.store.policy(place.scope_id)).model_weights)

    async def _store_input(self, data: bytes, filename: str) -> str:
        image = await asyncio.to_thread(normalize_image, data, filename=filename)
        path = self.data_dir / "inputs" / f"{image.sha256}{image.extension}"
        await asyncio.to_thread(write_atomic, path, image.data, once=True)
        return str(path)

    async def _job_for(self, action: Action, actor: Actor, place: Place, job_id: str) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None or job.scope_id != place.scope_id or job.platform != actor.platform:
            raise NotFoundError("That job doesn't exist here.")
        await self._authorize(action, actor, place, owner_id=job.user_id)
        return job

    # the same one check for core modules beside the service (core.moderation.audit)
    job_for = _job_for

    async def check(self, action: Action, actor: Actor, place: Place, job_id: str) -> None:
        """Ask before acting on a job (e.g. before opening a dialog): NotAllowed if the actor may not."""
        await self._job_for(action, actor, place, job_id)

    async def cancel(self, actor: Actor, place: Place, job_id: str | None = None) -> JobView:
        if job_id is None:
            latest = self.engine.latest_cancellable((actor.platform, actor.user_id, place.scope_id))
            if latest is None:
                raise NotFoundError("You have no running job here to cancel.")
            job_id = latest.job_id
        await self._job_for(Action.CANCEL, actor, place, job_id)
        return self.engine.view(await self.engine.cancel(job_id))

    async def reroll(self, actor: Actor, place: Place, job_id: str, *, same_seed: bool, idem_key: str,
                     reply_ref: str) -> JobView:
        old = await self._job_for(Action.REROLL_SAME_SEED if same_seed else Action.REROLL, actor, place, job_id)
        if old.character_id and not await self.book.exists(old.character_id):
            # its face is gone with it (and must stay gone): the job names no character, so neither do we
            raise NotFoundError("The saved character this image was made with has been deleted, so it can't be "
                                "re-rolled. Save the character again (or pick another) and run the command anew.")
        model, rating = get_model(old.model), await self.ratings.rating(place)
        # its prompt carries the character's description: screened as it will be sent
        await self.guard.screen(actor, place, str(old.payload.get(model.prompt_field) or ""), field="reroll")
        payload = with_safety_negative(model, dict(old.payload), rating)
        if model.seed_field and not same_seed:
            payload[model.seed_field] = self.rng.randint(0, SEED_MAX)
        new = NewJob(
            idem_key=idem_key, platform=actor.platform, user_id=actor.user_id, user_name=actor.name,
            scope_id=place.scope_id, chat_id=place.chat_id, model=old.model, prompt=old.prompt, payload=payload,
            inputs=dict(old.inputs), cost=await self._cost(place.scope_id, model, payload), reply_ref=reply_ref,
            character_id=old.character_id, seed=payload.get(model.seed_field) if model.seed_field else None,
            is_admin=actor.is_admin, rating=rating,
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
        return await self.engine.gate.released(job, await load_outputs(job))

    # --- characters ------------------------------------------------------------------------------

    async def save_character(self, actor: Actor, place: Place, *, name: str, image: bytes, description: str = "",
                             consent: bool, confirmed_by: Actor | None = None) -> CharacterView:
        """`confirmed_by`: who pressed a separate consent button; only `actor` themselves may."""
        await self._authorize(Action.CHARACTER_SAVE, confirmed_by or actor, place, owner_id=actor.user_id)
        await self.guard.screen(actor, place, name, description, field="character")
        return await self.book.save(platform=actor.platform, scope_id=place.scope_id, owner_id=actor.user_id,
                                    name=name, image=image, description=description, consent=consent,
                                    consent_how="button" if confirmed_by else "flag")

    async def save_character_from_job(self, actor: Actor, place: Place, *, job_id: str, name: str,
                                      index: int = 0, consent: bool = False,
                                      confirmed_by: Actor | None = None) -> CharacterView:
        """Raises ConsentRequired unless `consent` or the job's face is already the saver's consented one."""
        job = await self._job_for(Action.SAVE_FROM_JOB, actor, place, job_id)
        await self.guard.screen(actor, place, name, field="character")
        images = await self.engine.gate.released(job, await load_outputs(job))
        if not 0 <= index < len(images):
            raise NotFoundError(f"That job has {len(images)} image(s); pick one of 1 to {len(images)}.")
        if consent:
            return await self.save_character(actor, place, name=name, image=images[index].data, consent=True,
                                             confirmed_by=confirmed_by)
        if not await self.book.own_consented_face(actor.user_id, job):
            raise ConsentRequired("Saving this face needs your confirmation that you may use it.")
        await self._authorize(Action.CHARACTER_SAVE, actor, place, owner_id=actor.user_id)
        return await self.book.save(platform=actor.platform, scope_id=place.scope_id, owner_id=actor.user_id,
                                    name=name, image=images[index].data, consent=True, consent_how="character")

    async def characters(self, actor: Actor, place: Place, *, prefix: str = "", offset: int = 0,
                         limit: int = 25) -> list[CharacterView]:
        await self._authorize(Action.LIST_CHARACTERS, actor, place, owner_id=None)
        return await self.book.list(scope_id=place.scope_id, prefix=prefix, offset=offset, limit=limit)

    async def character(self, actor: Actor, place: Place, name: str) -> tuple[CharacterView, bytes]:
        await self._authorize(Action.CHARACTER_SHOW, actor, place, owner_id=None)
        character = await self.book.get(scope_id=place.scope_id, name=name)
        return character, await self.book.image_bytes(character)

    async def rename_character(self, actor: Actor, place: Place, name: str, new_name: str) -> CharacterView:
        character = await self.book.get(scope_id=place.scope_id, name=name)
        await self._authorize(Action.CHARACTER_RENAME, actor, place, owner_id=character.owner_id)
        await self.guard.screen(actor, place, new_name, field="character")
        return await self.book.rename(scope_id=place.scope_id, name=name, new_name=new_name)

    async def delete_character(self, actor: Actor, place: Place, name: str) -> None:
        character = await self.book.get(scope_id=place.scope_id, name=name)
        await self._authorize(Action.CHARACTER_DELETE, actor, place, owner_id=character.owner_id)
        await self.book.delete(scope_id=place.scope_id, name=name)
