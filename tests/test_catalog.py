"""The catalog against the service pages in shared/segmind-api/: every range, default and enum."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from core.catalog import MODELS, SEED_MAX, Encoding, Transport, build_payload, coerce, get_model
from core.errors import InvalidParameter
from core.types import ImageRole

PAGES = Path(__file__).resolve().parents[2] / "shared" / "segmind-api"
PAGE_OF = {"poses": "000", "illustration": "001", "scene": "002", "sheet": "003", "pose": "004"}
_DEF = r"(?:optional|required|int|float|str|bool|enum|image|number|integer|string)"


def page_text(model_key: str) -> str:
    if not PAGES.is_dir():
        pytest.skip("shared/segmind-api is not beside this checkout")
    (path,) = PAGES.glob(f"{PAGE_OF[model_key]}_*.txt")
    return path.read_text()


def page_range(text: str, name: str, others: list[str]) -> tuple[float, float] | None:
    """The range stated in the page's definition of `name` (the slice up to the next definition)."""
    start = None
    for match in re.finditer(rf"(?<![a-z_]){re.escape(name)}(?={_DEF})", text):
        start = match.end()
    if start is None:
        return None
    end = len(text)
    for other in others:
        if other != name:
            nxt = re.search(rf"(?<![a-z_]){re.escape(other)}(?={_DEF})", text[start:])
            if nxt:
                end = min(end, start + nxt.start())
    chunk = text[start:end]
    found = re.search(r"Range:\s*([\d.]+)\s*-\s*([\d.]+)", chunk) or re.search(
        r"min\s*:\s*([\d.]+),\s*max\s*:\s*([\d.]+)", chunk
    )
    return (float(found[1]), float(found[2])) if found else None


@pytest.mark.parametrize("key", list(MODELS))
def test_every_page_range_matches_the_catalog(key: str) -> None:
    model = MODELS[key]
    text = page_text(key)
    names = [p.name for p in model.params] + list(model.fixed) + [s.field for s in model.images]
    for param in model.params:
        stated = page_range(text, param.name, names)
        if param.page and param.minimum is not None:
            assert stated == (param.minimum, param.maximum), f"{key}.{param.name}: page says {stated}"
        if not param.page:
            assert stated is None, f"{key}.{param.name} is marked castbot's cap but the page states {stated}"


def test_pinned_values_from_the_pages() -> None:
    poses = get_model("poses")
    assert (poses.transport, poses.slug) == (Transport.V2, "consistent-character")
    assert poses.param("number_of_outputs").default == 1
    assert poses.param("output_format").choices == ("webp", "jpg", "png")
    assert poses.param("output_format").default == "webp"
    assert poses.param("output_quality").default == 80
    assert poses.param("negative_prompt").default == "low quality,blur"
    assert poses.param("randomise_poses").default is True
    assert poses.slot(ImageRole.CHARACTER).field == "subject"

    ill = get_model("illustration")
    assert (ill.transport, ill.slug) == (Transport.V2, "consistent-character-AI-neolemon-v3")
    assert ill.slot(ImageRole.CHARACTER).field == "ip_image" and ill.slot(ImageRole.CHARACTER).required
    assert ill.slot(ImageRole.POSE).field == "input_image" and not ill.slot(ImageRole.POSE).required
    assert (ill.param("guidance_scale").default, ill.param("steps").default) == (3, 10)
    assert ill.param("seed").default == 4898558797

    scene = get_model("scene")
    assert (scene.transport, scene.slug) == (Transport.WORKFLOW, "6865fd064727e611dfa21d4f-v5")
    assert {s.field for s in scene.images} == {"Character", "Scene"}
    assert scene.param("Prompt").default == "sitting on the bench"

    sheet = get_model("sheet")
    assert (sheet.transport, sheet.slug) == (Transport.V1, "consistent-character-ai-neolemon")
    assert sheet.slot(ImageRole.CHARACTER).encoding == Encoding.BASE64
    assert sheet.param("strength").default == 0.8 and sheet.param("upscale_by").default == 2
    assert sheet.fixed["scheduler"] == "karras" and sheet.fixed["upscale_mode_type"] == "Linear"

    pose = get_model("pose")
    assert (pose.transport, pose.slug) == (Transport.V1, "consistent-character-with-pose")
    assert pose.slot(ImageRole.POSE).field == "pose_image" and pose.slot(ImageRole.POSE).required
    assert pose.param("quality").default == 95 and pose.param("seed").default == 2778725438


def test_payload_uses_defaults_and_user_flags() -> None:
    payload = build_payload(get_model("poses"), prompt="on a beach", flags={"n": "4", "seed": "7"})
    assert payload["number_of_outputs"] == 4 and payload["seed"] == 7
    assert payload["prompt"] == "on a beach" and payload["output_quality"] == 80
    assert get_model("poses").output_count(payload) == 4  # units: core.pricing (tests/test_pricing.py)


def test_missing_seed_is_random_and_reproducible_from_the_payload() -> None:
    a = build_payload(get_model("poses"), rng=random.Random(1))
    b = build_payload(get_model("poses"), rng=random.Random(2))
    assert a["seed"] != b["seed"] and 0 <= a["seed"] <= SEED_MAX


@pytest.mark.parametrize(
    ("model", "flags", "fragment"),
    [
        ("poses", {"n": "21"}, "--n must be from 1 to 20; got 21"),
        ("poses", {"n": "two"}, "--n must be a whole number"),
        ("poses", {"format": "gif"}, "--format must be one of webp, jpg, png"),
        ("poses", {"quality": "-1"}, "--quality must be from 0 to 100"),
        ("illustration", {"guidance": "16"}, "--guidance must be from 1 to 15"),
        ("illustration", {"steps": "0"}, "--steps must be from 1 to 70"),
        ("sheet", {"strength": "1.5"}, "--strength must be from 0 to 1"),
        ("pose", {"height": "5000"}, "--height must be from 64 to 4096"),
        ("poses", {"bogus": "1"}, "has no option --bogus"),
    ],
)
def test_out_of_range_errors_name_the_parameter_and_range(model: str, flags: dict, fragment: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        build_payload(get_model(model), prompt="a prompt", flags=flags)
    assert fragment in str(info.value)


def test_prompt_rules() -> None:
    with pytest.raises(InvalidParameter, match="needs a prompt"):
        build_payload(get_model("sheet"))
    with pytest.raises(InvalidParameter, match="limit is 2000"):
        build_payload(get_model("poses"), prompt="x" * 2001)
    with pytest.raises(InvalidParameter, match="does not take a negative prompt"):
        build_payload(get_model("scene"), negative="blurry")


def test_unknown_model_lists_the_real_ones() -> None:
    with pytest.raises(InvalidParameter, match="poses, illustration, scene, sheet, pose"):
        get_model("dalle")


def test_coerce_rejects_nan_and_bool_for_numbers() -> None:
    param = get_model("illustration").param("guidance_scale")
    with pytest.raises(InvalidParameter):
        coerce(param, "nan")
    with pytest.raises(InvalidParameter):
        coerce(get_model("poses").param("number_of_outputs"), True)
    assert coerce(get_model("poses").param("randomise_poses"), "no") is False
