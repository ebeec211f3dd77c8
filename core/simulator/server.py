"""A Segmind-compatible server: castbot's embedded default without an API key, and every test's Segmind.

Serves the shapes of the five service pages: v2 queue (QUEUED → PROCESSING → COMPLETED, FAILED as HTTP
422 with the error, 404 for unknown or expired ids), v1 sync (image bytes + `x-remaining-credits`), the
scene workflow (`poll_url`, `output` as a JSON string), `/upload-asset`, and the files it produced.
Job times come from the injected clock, so a FakeClock drives them. Faults are knobs on `SimConfig`,
mutable at runtime. The model lives in core.simulator.state and the endpoints in core.simulator.routes;
this module puts them behind a socket and injects faults in front of every route.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from core.clock import Clock
from core.simulator.routes import add_routes
from core.simulator.state import MAX_UPLOAD_BYTES, SimConfig, SimJob, SimRequest, SimState, SimulatorError

__all__ = ["SimConfig", "SimJob", "Simulator", "SimulatorError"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Injected:
    status: int
    retry_after: float | None
    count: int


class Simulator(SimState):
    """The simulator's state behind an aiohttp server on 127.0.0.1, with faults injected in a middleware."""

    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(config, clock=clock)
        self._injected: deque[_Injected] = deque()
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_UPLOAD_BYTES * 2)
        add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        log.info("Segmind simulator listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- test controls ---------------------------------------------------------------------------

    def fail_next(self, status: int, *, retry_after: float | None = None, count: int = 1) -> None:
        """The next `count` requests (any endpoint) are answered `status` before anything else."""
        self._injected.append(_Injected(status, retry_after, count))

    # --- middleware: record, delay, authenticate, inject faults ------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if self.config.latency > 0:
                await asyncio.sleep(self.config.latency)
            self._gate(request)
            response = await handler(request)
        except SimulatorError as exc:
            response = web.json_response({"error": str(exc)}, status=exc.status, headers=exc.headers)
        self.requests.append(SimRequest(request.method, request.path, response.status, self.clock.now()))
        return response

    def _gate(self, request: web.Request) -> None:
        if self._injected:
            injected = self._injected[0]
            injected.count -= 1
            if injected.count <= 0:
                self._injected.popleft()
            raise _fault(injected.status, injected.retry_after)
        if request.path.startswith("/files/"):
            return  # outputs are public URLs, like Segmind's storage
        if self._presented_key(request) != self.config.api_key:
            raise SimulatorError(401, "Unauthorized: missing or invalid API key")
        if self.chance(self.config.rate_limit_rate):
            raise _fault(429, self.config.retry_after)

    @staticmethod
    def _presented_key(request: web.Request) -> str:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.headers.get("x-api-key", "")


def _fault(status: int, retry_after: float | None) -> SimulatorError:
    headers = {"Retry-After": _format_seconds(retry_after)} if retry_after is not None else {}
    return SimulatorError(status, _FAULT_TEXT.get(status, "Simulated error"), headers=headers)


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


_FAULT_TEXT = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 406: "Insufficient credits",
    422: "Request failed", 429: "Rate limit exceeded", 500: "Internal server error", 502: "Bad gateway",
    504: "Gateway timeout",
}
