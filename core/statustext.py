"""Platform-neutral pieces of a status message: a text progress bar and a short duration.

Every adapter renders its own markup around these, so a job reads the same on Telegram, Discord and
the console.
"""

from __future__ import annotations

import hashlib
import json

from core.types import JobState, JobView

BAR_CELLS = 12


def content_digest(*shown: object) -> str:
    """A short digest of what a message shows (its text, its buttons as plain data): messengers keep it, also
    across restarts inside the job's reply reference, so an identical edit is never sent."""
    payload = json.dumps(shown, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def progress_bar(fraction: float, cells: int = BAR_CELLS) -> str:
    """`▰▰▰▱▱▱…` for a fraction in 0..1 (clamped)."""
    filled = round(max(0.0, min(1.0, fraction)) * cells)
    return "▰" * filled + "▱" * (cells - filled)


def duration(seconds: float | None) -> str:
    """`42s`, `1m05s`, `2h03m`: short, and stable within a second so unchanged views render the same."""
    total = max(0, int(seconds or 0))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def cost_text(view: JobView) -> str:
    """`Cost: 2 units`, as every adapter's accepted and status message says it (units from core.pricing).

    Empty once a job ended without images (failed, cancelled, expired): nothing was charged for it.
    """
    if view.cost <= 0 or (view.state.is_final and view.state != JobState.DELIVERED):
        return ""
    return f"Cost: {view.cost} unit{'s' if view.cost != 1 else ''}"
