"""The words of /forget_me's two answers, plain text: each adapter escapes them for its markup.

They live once here because what is removed (and what stays) must read the same on every platform.
"""

from __future__ import annotations

from core.commands import answers as a


def preview_text(answer: a.ForgetPreview, how_to_confirm: str) -> str:
    """`how_to_confirm`: the platform's way, e.g. "send /forget_me --confirm" or "press Forget me"."""
    return (f"This removes everything castbot keeps about you on this platform: your {answer.characters} saved "
            f"character(s) with their photos, the prompts, photos and images of your {answer.jobs} job(s), and "
            "the usernames castbot remembered for you. Quota records stay, with your name replaced. "
            f"It cannot be undone. To go ahead, {how_to_confirm}.")


def forgotten_text(answer: a.Forgotten) -> str:
    kept = f" Kept: {', '.join(answer.kept)}." if answer.kept else ""
    return (f"Forgotten. Removed {answer.characters} character(s), the prompts and images of {answer.jobs} "
            f"job(s), {answer.files} file(s) and {answer.usernames} remembered username(s).{kept}")
