"""Adapters only translate: no adapter file holds a permission check, a Segmind payload build or a
required-image rule. Those live once, in core (core/permissions.py, core/commands/precheck.py); this test
reads every adapter file and fails on the shapes those rules take, so a copy can't creep back in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ROOT / "adapters"

# Each shape: what it looks like, and why an adapter must not have it.
FORBIDDEN = {
    r"\bbuild_payload\b": "a Segmind payload is built once, in core's precheck",
    r"\bif\b[^\n]*\bis_admin\b": "who may do what is core/permissions.py's table",
    r"\bowner_id\s*[!=]=|[!=]=\s*[\w.]*owner_id\b": "ownership checks belong to core/permissions.py",
    r"\.required\b": "which images a model requires is core's precheck rule",
    r"_missing_image": "the required-image wording is core's (core.errors.word)",
    r"\bADMIN_ACTIONS\b|\bCANCELLABLE\b": "JobState.is_cancellable and the permission table say this",
    r"\bcore\.grammar\b": "commands are parsed by core.commands.parser",
    r"\.classify\(|\bSAFETY_NEGATIVE\b|\bthreshold\b": "the image safety gate is core's (core/moderation/gate.py)",
    r"\brating\s*[!=]=|\bnsfw\s*[!=]=": "which rating applies is core/moderation/ratings.py's rule",
}


def violations(path: Path, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        for shape, why in FORBIDDEN.items():
            if re.search(shape, code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}  ({why})")
    return found


def test_no_adapter_file_holds_a_core_rule() -> None:
    found = [v for path in sorted(ADAPTERS.rglob("*.py")) for v in violations(path, path.read_text())]
    assert not found, "move these into core:\n" + "\n".join(found)


def test_each_shape_is_caught() -> None:
    bad = {
        "build_payload(model, prompt=p, flags=f)": "payload",
        "if not actor.is_admin:": "admin check",
        "return actor.user_id == view.owner_id": "owner check",
        "needed = [s for s in model.images if s.required]": "required images",
        "raise InvalidParameter(_missing_images(cmd))": "wording",
        "if view.state in CANCELLABLE:": "cancellable",
        "from core.grammar import parse_generation": "grammar",
        "if classifier.classify(data).score > 0.7:": "gate",
        "if place.rating == 'nsfw':": "rating",
    }
    for snippet, what in bad.items():
        assert violations(ADAPTERS / "x.py", snippet), what
    assert not violations(ADAPTERS / "x.py", "actor = Actor(PLATFORM, uid, name, is_admin=perms.manage_guild)")
