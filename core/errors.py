"""castbot's errors: what users caused, and what Segmind answered.

User errors carry a friendly message the adapters show as is. Segmind errors form a small tree built by
one function from the status code; network failures are kept apart from refusals.
"""

from __future__ import annotations


class CastbotError(Exception):
    """Base of everything castbot raises on purpose."""


class UserError(CastbotError):
    """The user can fix this; `str(exc)` is the message to show them."""


class InvalidParameter(UserError):
    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ImageRejected(UserError):
    """An input image was refused by the intake (size, format, bomb, host)."""


class QuotaExhausted(UserError):
    def __init__(self, message: str, *, resets_at: float | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class NotAllowed(UserError):
    """The actor may not do this (not the owner, not an admin, banned); see core.permissions."""

    def __init__(self, message: str, *, action: str | None = None, role: str | None = None) -> None:
        super().__init__(message)
        self.action = action  # a core.permissions.Action value
        self.role = role  # the actor's core.permissions.Role towards the thing


class NotFoundError(UserError):
    """A character, job or command the user named does not exist here."""


class Conflict(UserError):
    """The thing already exists or is in a state that forbids the action."""


# --- Segmind -------------------------------------------------------------------------------------


class SegmindError(CastbotError):
    """Anything that went wrong talking to Segmind."""


class SegmindNetworkError(SegmindError):
    """The network broke (connect error, timeout, truncated body): Segmind did not answer."""


class SegmindTimeout(SegmindNetworkError):
    pass


class OutputTooLarge(SegmindError):
    """A download went past its byte limit; retrying would fetch the same oversized file."""


class SegmindAPIError(SegmindError):
    """Segmind answered and refused."""

    status: int = 0

    def __init__(self, detail: str = "", *, status: int | None = None) -> None:
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail
        if status is not None:
            self.status = status


class BadRequest(SegmindAPIError):
    status = 400


class AuthError(SegmindAPIError):
    status = 401  # also 403


class NotFound(SegmindAPIError):
    status = 404


class NoCredits(SegmindAPIError):
    status = 406


class Failed(SegmindAPIError):
    """The job ran and FAILED (HTTP 422); `detail` is Segmind's reason, content blocks included."""

    status = 422


class RateLimited(SegmindAPIError):
    status = 429

    def __init__(self, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Upstream(SegmindAPIError):
    status = 500  # 5xx


_BY_STATUS: dict[int, type[SegmindAPIError]] = {
    400: BadRequest,
    401: AuthError,
    403: AuthError,
    404: NotFound,
    405: BadRequest,
    406: NoCredits,
    422: Failed,
}


def api_error_from(status: int, detail: str, *, retry_after: float | None = None) -> SegmindAPIError:
    """Build the typed error for an HTTP status Segmind answered with."""
    if status == 429:
        return RateLimited(detail, retry_after=retry_after)
    if status >= 500:
        return Upstream(detail, status=status)
    cls = _BY_STATUS.get(status, BadRequest)
    return cls(detail, status=status)


def is_retryable(exc: BaseException) -> bool:
    """True where trying the same safe call again may succeed."""
    return isinstance(exc, SegmindNetworkError | RateLimited | Upstream)
