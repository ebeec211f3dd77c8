"""Segmind errors: a small tree built by one function from the status code; network failures kept apart
from refusals."""

from __future__ import annotations

from core.errors import CastbotError


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
