"""`/admin` in the console: quota policy, bans and stats, turned from flags into service calls."""

from __future__ import annotations

from typing import Any

from adapters.console import render
from core.errors import InvalidParameter
from core.grammar import parse_flags
from core.service import CastService
from core.types import Actor, Place

USAGE = ("Use /admin quota --daily N [--pool N|none] [--window calendar|rolling] [--timezone Europe/Paris] "
         "[--characters N] [--unlimited-admins yes|no] · /admin ban USER · /admin unban USER · /admin stats")
# flag -> (policy field, parser)
_POLICY_FLAGS = {
    "daily": ("daily_units", "int"),
    "pool": ("pool_units", "int-or-none"),
    "window": ("window", "text"),
    "timezone": ("timezone", "text"),
    "characters": ("character_limit", "int"),
    "unlimited-admins": ("unlimited_admins", "bool"),
}


async def run_admin(service: CastService, actor: Actor, place: Place, args: str) -> str:
    words, flags = parse_flags(args)
    action = words[0].lower() if words else ""
    if action == "quota" and flags:
        return await service.set_policy(actor, place, **policy_changes(flags))
    if action in ("ban", "unban") and len(words) == 2:
        await service.ban(actor, place, words[1], banned=action == "ban")
        return f"{words[1]} is {'banned' if action == 'ban' else 'no longer banned'} here."
    if action == "stats":
        return render.stats_text(await service.stats(actor, place))
    raise InvalidParameter(USAGE)


def policy_changes(flags: dict[str, str]) -> dict[str, Any]:
    """Flags to set_policy keywords; the core validates ranges and names."""
    changes: dict[str, Any] = {}
    for flag, raw in flags.items():
        if flag not in _POLICY_FLAGS:
            raise InvalidParameter(f"/admin quota has no --{flag}. {USAGE}", param=flag)
        field, kind = _POLICY_FLAGS[flag]
        changes[field] = _parse(flag, raw, kind)
    return changes


def _parse(flag: str, raw: str, kind: str) -> Any:
    value = raw.strip().lower()
    if kind == "int-or-none" and value in ("none", "off", "0"):
        return None
    if kind in ("int", "int-or-none"):
        if not value.isdigit():
            raise InvalidParameter(f"--{flag} needs a whole number, not “{raw[:20]}”.", param=flag)
        return int(value)
    if kind == "bool":
        if value not in ("yes", "no", "on", "off", "true", "false"):
            raise InvalidParameter(f"--{flag} needs yes or no.", param=flag)
        return value in ("yes", "on", "true")
    return raw.strip()
