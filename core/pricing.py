"""What a job costs in quota units: the compute its settings ask of Segmind, priced per model.

Where the price comes from. Of the five service pages (shared/segmind-api/), only the scene workflow
states a price — "~$0.1224" a run — and it has no parameter that changes the work (002: Character, Scene,
Prompt). The other four pages state no price and no pricing rule, so castbot assumes Segmind's charge
follows the compute a request asks for (their v2 results report it: `metrics.inference_time`, "server
compute seconds"). A diffusion pass costs about steps x pixels, so a job's work is the sum over the
model's passes of steps x pixels, times its number of images. Guidance, seed, quality, format and the
samplers do not change the work and are not priced; nor is the sheet's `strength`, which the page does not
say is a denoise fraction (if it is, a strength below 1 runs fewer steps: pricing it at full is the safe side).

Units = ceil(weight x images x work / work at the model's default settings). `weight` is the price of
one image at default settings: the catalog's `Model.weight` unless the operator overrides it
(CASTBOT_MODEL_UNITS), raised — never lowered — by a community's own weight. So default settings cost
what they always did, more steps / pixels / upscale cost proportionally more, and a real job costs at
least one unit (a smaller-than-default job is not cheaper than one unit: the quota, caps and the
operator's ceilings always bound it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from core.catalog import MODELS, Model

MAX_WEIGHT = 1_000_000  # the quota's own bound on units (core.store.quota.MAX_UNITS)
REFERENCE_PIXELS = 1024 * 1024  # the pages' default size; pass pixels are counted relative to it


@dataclass(frozen=True, slots=True)
class Pass:
    """One diffusion pass of a model's pipeline; its work ~ steps x pixels. Fields name catalog parameters."""

    steps: str | None = None  # its step count; None: the page shows none, the pass's work is fixed
    size: tuple[str, str] | None = None  # its width and height; None: a fixed size (`pixels`)
    scale: str | None = None  # an upscale factor: pixels grow with its square
    unless: str | None = None  # a yes/no parameter that, when yes, makes `size` not apply
    pixels: Fraction = Fraction(1)  # relative to 1024x1024, when `size` gives none

    def work(self, payload: Mapping[str, Any]) -> Fraction:
        steps = Fraction(int(payload[self.steps])) if self.steps else Fraction(1)
        pixels = self.pixels
        if self.size and not (self.unless and payload.get(self.unless)):
            width, height = self.size
            pixels = Fraction(int(payload[width]) * int(payload[height]), REFERENCE_PIXELS)
        if self.scale:
            pixels *= int(payload[self.scale]) ** 2
        return steps * pixels

    def drivers(self) -> tuple[str, ...]:
        return tuple(name for name in (self.steps, *(self.size or ()), self.scale) if name)


# What each page shows drives its compute (file names: shared/segmind-api/).
PASSES: dict[str, tuple[Pass, ...]] = {
    # 000: no steps or size on the page; work is per image (number_of_outputs x number_of_images_per_pose).
    "poses": (Pass(),),
    # 001: steps 1-70 (default 10) at width x height (default 1024x1024).
    "illustration": (Pass(steps="steps", size=("width", "height")),),
    # 002: one workflow run at a stated flat price (~$0.1224), nothing to set.
    "scene": (Pass(),),
    # 003: the sheet pass (num_inference_steps), a tiled upscale pass (upscale_steps over upscale_by^2 the
    # pixels) and the face-detail pass (fd_steps on a face crop, counted as one reference image).
    "sheet": (Pass(steps="num_inference_steps"), Pass(steps="upscale_steps", scale="upscale_by"),
              Pass(steps="fd_steps")),
    # 004: custom_width x custom_height, unless use_input_img_dimension (default yes) takes the input's size.
    # The page shows no step count. The input's own size is not priced (it is priced as 1024x1024).
    "pose": (Pass(size=("custom_width", "custom_height"), unless="use_input_img_dimension"),),
}


def default_payload(model: Model) -> dict[str, Any]:
    """The payload of a job left at every default (images and prompt aside)."""
    return {**{p.name: p.default for p in model.params if p.default is not None}, **model.fixed}


def maximum_payload(model: Model, offered: Callable[[str], bool] = lambda flag: True) -> dict[str, Any]:
    """Every setting a user can raise (among `offered` flags) at its maximum: the dearest job there is."""
    payload = default_payload(model)
    priced = {name for p in PASSES[model.key] for name in p.drivers()} | _count_fields(model)
    for param in model.params:
        if param.flag and offered(param.flag) and param.name in priced and param.maximum is not None:
            payload[param.name] = param.type(param.maximum)
    for p in PASSES[model.key]:
        unless = model.param(p.unless) if p.unless else None
        if unless is not None and unless.flag and offered(unless.flag):
            payload[p.unless] = False  # the user's own size applies
    return payload


def job_units(model: Model, payload: Mapping[str, Any], *, weight: int) -> int:
    """A job's units: `weight` per image at default settings, scaled by its work against the defaults."""
    passes, defaults = PASSES[model.key], default_payload(model)
    full = {**defaults, **payload}  # a stored payload from before a parameter existed is priced at its default
    work = sum((p.work(full) for p in passes), Fraction(0))
    base = sum((p.work(defaults) for p in passes), Fraction(0))
    return max(1, math.ceil(weight * model.output_count(payload) * work / base))


@dataclass(frozen=True, slots=True)
class Pricing:
    """The operator's price list: units per image at default settings, per model key (the catalog's when unset).

    A community's weight (core.store.quota.Policy.model_weights) may raise a model's price for its members,
    never lower it below the operator's: the operator pays Segmind, so the price they set is a floor, the
    same way every operator limit is one a community can only narrow (shared/DESIGN.md, policy layers).
    """

    weights: Mapping[str, int] = field(default_factory=dict)

    def weight(self, model: Model, community: Mapping[str, int] | None = None) -> int:
        base = self.weights.get(model.key, model.weight)
        return max(base, (community or {}).get(model.key, base))

    def weights_for(self, community: Mapping[str, int] | None = None) -> dict[str, int]:
        return {key: self.weight(model, community) for key, model in MODELS.items()}

    def units(self, model: Model, payload: Mapping[str, Any], community: Mapping[str, int] | None = None) -> int:
        return job_units(model, payload, weight=self.weight(model, community))


def parse_weights(text: str) -> dict[str, int]:
    """`poses=2,sheet=3` or `{"poses": 2}` -> {model: units}; ValueError names the first bad entry."""
    text = text.strip()
    if not text:
        return {}
    if text[0] in "{[":  # JSON
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("model units must map model names to units")
        items = list(raw.items())
    else:
        items = [tuple(part.split("=", 1)) if "=" in part else (part, None) for part in text.split(",") if part.strip()]
    weights: dict[str, int] = {}
    for key, value in items:
        name = str(key).strip().lower()
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r} in model units; models: {', '.join(MODELS)}")
        try:
            units = int(str(value).strip()) if not isinstance(value, bool) else None
        except ValueError:
            units = None
        if units is None or not 1 <= units <= MAX_WEIGHT:
            raise ValueError(f"units for {name} must be a whole number from 1 to {MAX_WEIGHT}, not {value!r}")
        weights[name] = units
    return weights


def _count_fields(model: Model) -> set[str]:
    return {name for name in (model.count_field, model.per_pose_field) if name}
