"""What to tell a user when Segmind (or delivery) lets a job down. Plain text, no platform markup."""

from __future__ import annotations

import re

from core.errors import Conflict
from core.segmind.errors import AuthError, BadRequest, Failed, NoCredits, NotFound, SegmindError
from core.types import JobState

NOTHING_CHARGED = "Nothing was charged."
_CONTENT_BLOCK = re.compile(r"nsfw|safety|safe|content|moderat|rai\b|policy|inappropriate|blocked", re.I)


def explain_failure(exc: BaseException) -> str:
    """One or two sentences for the status message of a failed job."""
    if isinstance(exc, Failed):
        if _CONTENT_BLOCK.search(exc.detail or ""):
            return (
                "Segmind's safety filter blocked this picture. Try a different prompt or photo. "
                + NOTHING_CHARGED
            )
        detail = _short(exc.detail) or "no reason given"
        return f"Segmind could not make this picture ({detail}). Try again or change the prompt. {NOTHING_CHARGED}"
    if isinstance(exc, NoCredits):
        return (
            "The bot's Segmind account is out of credits, so it cannot generate right now. "
            f"The operator has been told. {NOTHING_CHARGED}"
        )
    if isinstance(exc, AuthError):
        return f"The bot's Segmind key was refused; the operator has been told. {NOTHING_CHARGED}"
    if isinstance(exc, BadRequest):
        return f"Segmind refused these settings ({_short(exc.detail)}). Check /help. {NOTHING_CHARGED}"
    if isinstance(exc, NotFound):
        return f"Segmind lost track of this job. Please try again. {NOTHING_CHARGED}"
    if isinstance(exc, SegmindError):
        return f"Segmind is having trouble right now. Please try again in a few minutes. {NOTHING_CHARGED}"
    return f"Something went wrong on our side. Please try again. {NOTHING_CHARGED}"


EXPIRED_MESSAGE = (
    "The results expired at Segmind before they could be downloaded (they are kept one hour). "
    f"Please run it again. {NOTHING_CHARGED}"
)
TIMED_OUT_MESSAGE = f"Segmind took far too long with this job, so it was stopped. Please try again. {NOTHING_CHARGED}"
UNDELIVERABLE_MESSAGE = f"The images were made but could not be sent to this chat. {NOTHING_CHARGED}"
INTERRUPTED_MESSAGE = f"Restarts interrupted this job twice, so it was stopped. Please try again. {NOTHING_CHARGED}"
CANCELLED_MESSAGE = f"Cancelled. {NOTHING_CHARGED}"


def refuse_cancel(state: JobState) -> None:
    """A finished job cannot be cancelled: say why when there is something to say (a failed, cancelled or
    expired job simply stays as it is)."""
    if state == JobState.DELIVERED:
        raise Conflict("That job is already finished and delivered.")
    if state == JobState.COMPLETED:
        raise Conflict("That job is finished; its images are on their way.")


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
