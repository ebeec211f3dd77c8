"""The five Segmind consistent-character services, as data.

Every range, default and allowed value below is copied from the service pages in
shared/segmind-api/; `tests/test_catalog.py` pins them. Where a page gives no range (a seed, an
image size, a sample count), castbot sets its own cap and marks it `page=False` so nobody mistakes
it for Segmind's.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import (
    BadChoice,
    BadOptionValue,
    InvalidParameter,
    NegativeNotTaken,
    OptionOutOfRange,
    PromptRequired,
    TextTooLong,
    UnknownOption,
)
from core.types import ImageRole

MAX_PROMPT_CHARS = 2000
SEED_MAX = 9_999_999_999  # pages only say "random by default"; their own defaults reach 4.9e9


class Transport(enum.StrEnum):
    V2 = "v2"  # POST /v2/{slug} -> request id; poll /v2/requests/{id}/status
    V1 = "v1"  # POST /v1/{slug} blocks and returns the image bytes
    WORKFLOW = "workflow"  # POST /workflows/{id} -> poll_url; output is a JSON string


class Encoding(enum.StrEnum):
    URI = "uri"  # uploaded to Segmind storage first, the URL goes in the payload
    BASE64 = "base64"  # sent inline


@dataclass(frozen=True, slots=True)
class Param:
    """One API parameter. `flag` is its user-facing name (`--seed`), None when users cannot set it."""

    name: str
    type: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    flag: str | None = None
    help: str = ""
    page: bool = True  # False: the range is castbot's cap, the page gives none

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is bool:
            return "yes or no"
        if self.minimum is not None and self.maximum is not None:
            return f"{_num(self.minimum)} to {_num(self.maximum)}"
        return "text" if self.type is str else "a number"


@dataclass(frozen=True, slots=True)
class ImageSlot:
    role: ImageRole
    field: str
    encoding: Encoding
    required: bool


@dataclass(frozen=True, slots=True)
class Model:
    key: str
    title: str
    transport: Transport
    slug: str  # v1/v2 slug or workflow id
    images: tuple[ImageSlot, ...]
    prompt_field: str
    prompt_required: bool
    params: tuple[Param, ...]
    negative_field: str | None = None
    seed_field: str | None = None
    count_field: str | None = None  # the parameter `--n` sets
    per_pose_field: str | None = None
    weight: int = 1  # quota units per output image at default settings; core.pricing scales it by compute
    typical_seconds: float = 60.0
    summary: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)  # sent as is, never user-set

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def by_flag(self) -> dict[str, Param]:
        return {p.flag: p for p in self.params if p.flag}

    def slot(self, role: ImageRole) -> ImageSlot | None:
        return next((s for s in self.images if s.role == role), None)

    def output_count(self, payload: Mapping[str, Any]) -> int:
        count = int(payload.get(self.count_field, 1)) if self.count_field else 1
        if self.per_pose_field:
            count *= int(payload.get(self.per_pose_field, 1))
        return count


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _seed(default: int) -> Param:
    return Param("seed", int, default, 0, SEED_MAX, flag="seed", help="same seed, same picture", page=False)


_SHEET_NEGATIVE = (
    "text, watermark, underexposed, ugly, jpeg, (worst quality, low quality, lowres, low details, "
    "oversaturated, undersaturated, overexposed, grayscale, bw, bad photo, bad art:1.4), (font, username, "
    "error, logo, words, letters, digits, autograph, trademark, name:1.2), (blur, blurry, grainy), cropped, "
    "out of frame, cut off, jpeg artifacts, out of focus, glitch, duplicate, (amateur:1.3), merging, "
    "clipping, (nsfw), multiple hands, mutant, glitch, uncanny, cross eye, broken face, astronaut, helmet, "
    "blurry, "
)

MODELS: dict[str, Model] = {
    m.key: m
    for m in (
        Model(
            key="poses",
            title="Consistent Character (random poses)",
            transport=Transport.V2,
            slug="consistent-character",
            images=(ImageSlot(ImageRole.CHARACTER, "subject", Encoding.URI, True),),
            prompt_field="prompt",
            prompt_required=False,
            negative_field="negative_prompt",
            seed_field="seed",
            count_field="number_of_outputs",
            per_pose_field="number_of_images_per_pose",
            typical_seconds=61.31,
            summary="your character in several random poses",
            params=(
                Param("prompt", str, "a photo of a man at a beach, wearing hawaiian shirt, "
                      "looking directly at the camera"),
                Param("negative_prompt", str, "low quality,blur", flag="neg", help="what to avoid"),
                Param("number_of_outputs", int, 1, 1, 20, flag="n", help="how many images"),
                Param("number_of_images_per_pose", int, 1, 1, 4, flag="per-pose",
                      help="images for each pose"),
                Param("output_format", str, "webp", choices=("webp", "jpg", "png"), flag="format"),
                Param("output_quality", int, 80, 0, 100, flag="quality", help="0 lowest, 100 best"),
                Param("randomise_poses", bool, True, flag="random-poses"),
                _seed(42),
            ),
        ),
        Model(
            key="illustration",
            title="Consistent Character AI Neolemon V3 (illustration)",
            transport=Transport.V2,
            slug="consistent-character-AI-neolemon-v3",
            images=(
                ImageSlot(ImageRole.CHARACTER, "ip_image", Encoding.URI, True),
                ImageSlot(ImageRole.POSE, "input_image", Encoding.URI, False),
            ),
            prompt_field="prompt",
            prompt_required=True,
            negative_field="negative_prompt",
            seed_field="seed",
            summary="an illustrated character, optionally in a reference pose",
            params=(
                Param("prompt", str, "young man,beard, light skin, round face, large brown eyes and wavy "
                      "brown hair, wearing a white t-shirt, red plaid shirt, blue jeans, and brown boots"),
                Param("negative_prompt", str, "", flag="neg", help="what to avoid"),
                Param("guidance_scale", float, 3, 1, 15, flag="guidance", help="prompt strength"),
                Param("steps", int, 10, 1, 70, flag="steps", help="denoising steps"),
                Param("width", int, 1024, 512, 2048, flag="width", page=False),
                Param("height", int, 1024, 512, 2048, flag="height", page=False),
                _seed(4898558797),
            ),
        ),
        Model(
            key="scene",
            title="Consistent Character Scene Generator",
            transport=Transport.WORKFLOW,
            slug="6865fd064727e611dfa21d4f-v5",
            images=(
                ImageSlot(ImageRole.CHARACTER, "Character", Encoding.URI, True),
                ImageSlot(ImageRole.SCENE, "Scene", Encoding.URI, True),
            ),
            prompt_field="Prompt",
            prompt_required=False,
            weight=2,
            typical_seconds=59.16,
            summary="your character placed into a scene photo",
            params=(Param("Prompt", str, "sitting on the bench"),),
        ),
        Model(
            key="sheet",
            title="Consistent Character V1 (character sheet, upscaled)",
            transport=Transport.V1,
            slug="consistent-character-ai-neolemon",
            images=(ImageSlot(ImageRole.CHARACTER, "image", Encoding.BASE64, True),),
            prompt_field="prompt",
            prompt_required=True,
            negative_field="negative_prompt",
            seed_field="seed",
            weight=2,
            summary="an upscaled character sheet in multiple poses",
            params=(
                Param("prompt", str, None),
                Param("negative_prompt", str, _SHEET_NEGATIVE, flag="neg", help="what to avoid"),
                Param("num_inference_steps", int, 20, 1, 100, flag="steps"),
                Param("guidance_scale", float, 7, 1, 20, flag="guidance"),
                Param("strength", float, 0.8, 0, 1, flag="strength"),
                Param("upscale_by", int, 2, 1, 4, flag="upscale"),
                Param("upscale_steps", int, 20, 1, 100),
                Param("upscale_guidance_scale", float, 7, 1, 20),
                Param("fd_steps", int, 20, 1, 100),
                Param("fd_guidance_scale", float, 7, 1, 20),
                _seed(4898558797),
            ),
            # The page lists these enums without their allowed values: castbot sends the page's example.
            # One sample per call: a raw image body carries one image.
            fixed={
                "samples": 1,
                "scheduler": "karras",
                "sampler": "dpmpp_2m",
                "upscale_scheduler": "karras",
                "upscale_sampler": "dpmpp_2m",
                "upscale_mode_type": "Linear",
                "fd_scheduler": "karras",
                "fd_sampler": "dpmpp_2m",
            },
        ),
        Model(
            key="pose",
            title="Consistent Character With Pose",
            transport=Transport.V1,
            slug="consistent-character-with-pose",
            images=(
                ImageSlot(ImageRole.CHARACTER, "face_image", Encoding.BASE64, True),
                ImageSlot(ImageRole.POSE, "pose_image", Encoding.BASE64, True),
            ),
            prompt_field="prompt",
            prompt_required=True,
            seed_field="seed",
            summary="your character copying the pose of a reference image",
            params=(
                Param("prompt", str, None),
                Param("custom_height", int, 1024, 64, 4096, flag="height"),
                Param("custom_width", int, 1024, 64, 4096, flag="width"),
                Param("quality", int, 95, 10, 100, flag="quality"),
                Param("use_input_img_dimension", bool, True, flag="input-size"),
                _seed(2778725438),
            ),
            # Page: samples 1-4, base_64 default 1, output_format enum with its values unlisted (default
            # png). castbot asks for one raw image per call so the body is the image itself.
            fixed={"samples": 1, "base_64": False, "output_format": "png"},
        ),
    )
}

ALIASES = {"imagine": "poses"}  # command name -> default model


def get_model(key: str) -> Model:
    model = MODELS.get(key.strip().lower())
    if model is None:
        raise InvalidParameter(
            f"Unknown model “{key}”. Choose one of: {', '.join(MODELS)}.", param="model"
        )
    return model


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def coerce(param: Param, raw: Any, *, model: str = "") -> Any:
    """Turn a user's raw value (often text) into the parameter's type, or raise an error carrying the data."""
    option = param.flag or param.name
    try:
        if param.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError
        if param.type is int:
            if isinstance(raw, bool):
                raise ValueError
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value: Any = int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
        elif param.type is float:
            value = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise BadOptionValue(model=model, option=option, kind=_kind(param), expected=param.describe_range(),
                             value=str(raw), param=param.name) from None
    if param.choices and value not in param.choices:
        raise BadChoice(model=model, option=option, choices=param.choices, value=str(value), param=param.name)
    too_low = param.minimum is not None and value < param.minimum
    too_high = param.maximum is not None and value > param.maximum
    if too_low or too_high:
        raise OptionOutOfRange(model=model, option=option, minimum=param.minimum, maximum=param.maximum,
                               value=value, param=param.name)
    return value


def _kind(param: Param) -> str:
    return {int: "a whole number", float: "a number", bool: "yes or no"}.get(param.type, "text")


def build_payload(
    model: Model,
    *,
    prompt: str = "",
    negative: str | None = None,
    flags: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Validate user input against `model` and return the API payload without its images.

    `flags` maps user-facing flag names (`n`, `seed`, …) to raw values. A missing seed gets a fresh
    random one, so every payload is reproducible from what is stored.
    """
    flags = dict(flags or {})
    prompt = (prompt or "").strip()
    if len(prompt) > MAX_PROMPT_CHARS:
        raise TextTooLong(option="prompt", limit=MAX_PROMPT_CHARS, length=len(prompt))
    if model.prompt_required and not prompt:
        raise PromptRequired(model=model.key)
    payload: dict[str, Any] = {}
    for p in model.params:
        if p.default is not None:
            payload[p.name] = p.default
    payload.update(model.fixed)
    if prompt:
        payload[model.prompt_field] = prompt
    if negative is not None:
        if not model.negative_field:
            raise NegativeNotTaken(model=model.key)
        if len(negative) > MAX_PROMPT_CHARS:
            raise TextTooLong(option="neg", limit=MAX_PROMPT_CHARS, length=len(negative))
        payload[model.negative_field] = negative
    known = model.by_flag()
    for flag, raw in flags.items():
        param = known.get(flag)
        if param is None:
            raise UnknownOption(model=model.key, option=flag, known=tuple(known))
        payload[param.name] = coerce(param, raw, model=model.key)
    if model.seed_field and "seed" not in flags:
        payload[model.seed_field] = (rng or random.Random()).randint(0, SEED_MAX)
    return payload


def help_lines(model: Model) -> list[str]:
    """One line per user-settable option, from the catalog (used by every adapter's /help)."""
    lines = []
    for p in model.params:
        if not p.flag:
            continue
        default = "" if p.default in (None, "") else f", default {p.default}"
        what = f"{p.help}: " if p.help else ""
        lines.append(f"--{p.flag}  {what}{p.describe_range()}{default}")
    return lines
