"""HTTP routes of the Segmind simulator: the endpoint shapes from the service pages."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

from aiohttp import web

from core.catalog import Model, Transport
from core.simulator.state import (
    MAX_UPLOAD_BYTES,
    MODELS_BY_SLUG,
    SERVER_ERRORS,
    SLOW_BODY_PAUSE,
    SimJob,
    SimState,
    SimulatorError,
)


def add_routes(app: web.Application, sim: SimState) -> None:
    routes = _Routes(sim)
    app.router.add_post("/v1/{slug}", routes.v1_call)
    app.router.add_post("/v2/{slug}", routes.v2_submit)
    app.router.add_get("/v2/requests/{rid}/status", routes.v2_status)
    app.router.add_get("/v2/requests/{rid}", routes.v2_result)
    app.router.add_post("/workflows/{wid}", routes.workflow_start)
    app.router.add_get("/workflows/request/{rid}", routes.workflow_poll)
    app.router.add_post("/upload-asset", routes.upload)
    app.router.add_get("/files/{name}", routes.file)


class _Routes:
    def __init__(self, sim: SimState) -> None:
        self.sim = sim

    async def v2_submit(self, request: web.Request) -> web.Response:
        model = _model(request.match_info["slug"], Transport.V2)
        payload = await _payload(request, model)
        self.sim.charge(model.output_count(payload))
        job = self.sim.create_job(model, payload, Transport.V2)
        base = f"{self.sim.url}/v2/requests/{job.request_id}"
        return web.json_response(
            {"request_id": job.request_id, "status": "QUEUED", "status_url": f"{base}/status", "response_url": base}
        )

    async def v2_status(self, request: web.Request) -> web.Response:
        job = self.sim.find_job(request.match_info["rid"])
        self._maybe_server_error()
        return self._state_response(job, {"request_id": job.request_id})

    async def v2_result(self, request: web.Request) -> web.Response:
        job = self.sim.find_job(request.match_info["rid"])
        body: dict[str, Any] = {"request_id": job.request_id}
        if job.state(self.sim.clock.now()) == "COMPLETED":
            urls = [self.sim.file_url(name) for name in job.outputs]
            body["output"] = urls[0] if len(urls) == 1 else urls
            body["metrics"] = {"inference_time": round(job.completed_at - job.started_at, 3)}
        return self._state_response(job, body)

    async def workflow_start(self, request: web.Request) -> web.Response:
        model = _model(request.match_info["wid"], Transport.WORKFLOW)
        payload = await _payload(request, model)
        self.sim.charge(model.output_count(payload))
        job = self.sim.create_job(model, payload, Transport.WORKFLOW)
        poll_url = f"{self.sim.url}/workflows/request/{job.request_id}"
        return web.json_response({"status": "QUEUED", "request_id": job.request_id, "poll_url": poll_url})

    async def workflow_poll(self, request: web.Request) -> web.Response:
        job = self.sim.find_job(request.match_info["rid"])
        self._maybe_server_error()
        state = job.state(self.sim.clock.now())
        body: dict[str, Any] = {"request_id": job.request_id, "status": state}
        if state == "COMPLETED":
            # The scene page: `output` is a JSON *string* to be parsed by the caller.
            body["output"] = json.dumps({"image": self.sim.file_url(job.outputs[0])})
        elif state == "FAILED":
            body["error"] = job.failure  # the page's example reads FAILED from a 200 body
        return web.json_response(body)

    async def v1_call(self, request: web.Request) -> web.Response:
        model = _model(request.match_info["slug"], Transport.V1)
        payload = await _payload(request, model)
        self.sim.charge(model.output_count(payload))
        job = self.sim.create_job(model, payload, Transport.V1)
        await self.sim.clock.sleep(job.completed_at - self.sim.clock.now())  # v1 blocks while it runs
        if job.failure:
            raise SimulatorError(422, job.failure)
        data, mime = self.sim.file(job.outputs[0])
        headers = {}
        if self.sim.config.credits is not None:
            headers["x-remaining-credits"] = f"{self.sim.config.credits:g}"
        if payload.get("base_64"):
            return web.json_response({"image": base64.b64encode(data).decode("ascii")}, headers=headers)
        return web.Response(body=data, content_type=mime, headers=headers)

    async def upload(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        data_urls = body.get("data_urls")
        if not isinstance(data_urls, list) or not data_urls:
            raise SimulatorError(400, "data_urls must be a non-empty list of data URLs")
        return web.json_response(
            {"file_urls": [self._store(item) for item in data_urls], "message": "Files uploaded successfully"}
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        data, mime = self.sim.file(request.match_info["name"])
        cfg = self.sim.config
        truncate = self.sim.chance(cfg.truncate_rate)
        if not (truncate or cfg.slow_body):
            return web.Response(body=data, content_type=mime)
        response = web.StreamResponse(headers={"Content-Type": mime})
        response.content_length = len(data)
        await response.prepare(request)
        half = len(data) // 2
        await response.write(data[:half])
        if truncate:
            # Promise the whole length, send half, hang up: the client sees a truncated body.
            if request.transport is not None:
                request.transport.close()
            return response
        await asyncio.sleep(SLOW_BODY_PAUSE)
        await response.write(data[half:])
        await response.write_eof()
        return response

    def _store(self, item: Any) -> str:
        if not isinstance(item, str) or not item.startswith("data:") or ";base64," not in item:
            raise SimulatorError(400, "each data_url must look like data:<mime>;base64,<data>")
        header, _, encoded = item.partition(",")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SimulatorError(400, "data_url is not valid base64") from None
        if len(data) > MAX_UPLOAD_BYTES:
            raise SimulatorError(400, "file too large")
        return self.sim.store_upload(data, header[5:].split(";")[0] or "application/octet-stream")

    def _maybe_server_error(self) -> None:
        if self.sim.chance(self.sim.config.server_error_rate):
            raise SimulatorError(self.sim.pick(SERVER_ERRORS), "Simulated upstream error")

    def _state_response(self, job: SimJob, body: dict[str, Any]) -> web.Response:
        state = job.state(self.sim.clock.now())
        body["status"] = state
        if state == "FAILED":
            body["error"] = job.failure
            return web.json_response(body, status=422)  # the pages: FAILED is served as HTTP 422
        return web.json_response(body)


def _model(slug: str, transport: Transport) -> Model:
    model = MODELS_BY_SLUG.get(slug)
    if model is None or model.transport is not transport:
        raise SimulatorError(404, "Model or endpoint not found")
    return model


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise SimulatorError(400, "Request body must be JSON") from None
    if not isinstance(body, dict):
        raise SimulatorError(400, "Request body must be a JSON object")
    return body


async def _payload(request: web.Request, model: Model) -> dict[str, Any]:
    """The payload with the page's defaults filled in; out-of-range values are a 400, as on Segmind."""
    body = await _json_body(request)
    payload = {p.name: p.default for p in model.params if p.default is not None}
    payload.update(model.fixed)
    payload.update(body)
    for param in model.params:
        value = payload.get(param.name)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        low, high = param.minimum, param.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise SimulatorError(400, f"{param.name} must be between {low:g} and {high:g}")
    for slot in model.images:
        if slot.required and not payload.get(slot.field) and slot.field not in _PAGE_DEFAULTED:
            raise SimulatorError(400, f"{slot.field} is required")
    return payload


# Fields whose page gives a default image URL, so omitting them is not an error on Segmind either.
_PAGE_DEFAULTED = frozenset({"subject", "Character", "Scene"})
