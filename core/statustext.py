"""Platform-neutral pieces of a status message: a text progress bar and a short duration.

Every adapter renders its own markup around these, so a job reads the same on Telegram, Discord and
the console.
"""

from __future__ import annotations

import hashlib
import json

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
