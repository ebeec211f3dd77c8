"""Everything about a generation request that can be checked before an image is downloaded.

`prepare` resolves the model and the saved character, assigns each offered image to one of the model's
slots, and builds the Segmind payload (images aside) once. The payload is kept in the `Prepared` value
and used as is when the job is written: the seed drawn here is the job's seed, and no second build can
disagree with the first. The required-image rule lives here and nowhere else.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.catalog import Model, build_payload, get_model
from core.characters import with_description
from core.commands.table import GENERATION
from core.commands.types import Generate, ImageSource
from core.errors import ModelNotAllowed
from core.image_errors import ImageConflict, ImageTooBig, MissingImage, UnexpectedImage
from core.images import MAX_INPUT_BYTES
from core.types import CharacterView, ImageRole


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked generation request: what to download, and the payload to send once it is."""

    command: Generate
    model: Model
    payload: dict[str, Any]  # without images; the seed is already drawn
    character: CharacterView | None
    images: tuple[tuple[ImageRole, ImageSource], ...]  # slot -> the source that fills it


def resolve_model(command: Generate) -> Model:
    default, allowed = GENERATION[command.command]
    key = (command.model or default).strip().lower()
    if key not in allowed:
        raise ModelNotAllowed(command=command.command, model=key, allowed=allowed)
    return get_model(key)


def command_for_model(model: str) -> str:
    """The generation command a bare model key belongs to (its default command first)."""
    for name, (default, _) in GENERATION.items():
        if default == model:
            return name
    return next(name for name, (_, allowed) in GENERATION.items() if model in allowed)


def prepare(command: Generate, sources: Sequence[ImageSource], *, character: CharacterView | None,
            rng: random.Random) -> Prepared:
    model = resolve_model(command)
    images = assign_images(command.command, model, sources, has_character=character is not None)
    prompt = with_description(command.prompt, character) if character is not None else command.prompt
    # A typed platform (Discord) hands every option it declares, None for the ones left out.
    options = {name: value for name, value in command.options.items() if value is not None}
    payload = build_payload(model, prompt=prompt, negative=command.negative, flags=options, rng=rng)
    return Prepared(command, model, payload, character, images)


def assign_images(command: str, model: Model, sources: Sequence[ImageSource], *,
                  has_character: bool) -> tuple[tuple[ImageRole, ImageSource], ...]:
    """Explicit roles first, then positional images fill the remaining slots in the model's order.

    With a saved character the character slot is taken, so a positional image goes to the next slot
    (`/pose --char Luna` + one photo: the photo is the pose). A photo in the character slot next to a
    saved character is a conflict, and the message points at the slots still open.
    """
    roles = tuple(str(s.role) for s in model.images)
    filled: dict[ImageRole, ImageSource] = {}
    for source in sources:
        check_size(source)
        if source.role is None:
            continue
        if model.slot(source.role) is None:
            raise UnexpectedImage(command=command, model=model.key, role=str(source.role), roles=roles)
        if source.role == ImageRole.CHARACTER and has_character:
            others = tuple(r for r in roles if r != ImageRole.CHARACTER)
            raise ImageConflict(command=command, model=model.key, other_roles=others)
        filled[source.role] = source
    open_slots = [s.role for s in model.images
                  if s.role not in filled and not (has_character and s.role == ImageRole.CHARACTER)]
    for source in (s for s in sources if s.role is None):
        if not open_slots:
            if has_character and len(model.images) == 1:
                raise ImageConflict(command=command, model=model.key)
            raise UnexpectedImage(command=command, model=model.key, role=None, roles=roles)
        filled[open_slots.pop(0)] = source
    for slot in model.images:
        taken = slot.role in filled or (has_character and slot.role == ImageRole.CHARACTER)
        if slot.required and not taken:
            raise MissingImage(command=command, model=model.key, role=str(slot.role),
                               saved_allowed=slot.role == ImageRole.CHARACTER)
    return tuple((slot.role, filled[slot.role]) for slot in model.images if slot.role in filled)


def check_size(source: ImageSource) -> None:
    if source.size is not None and source.size > MAX_INPUT_BYTES:
        raise ImageTooBig(filename=source.filename, size=source.size, limit=MAX_INPUT_BYTES)
