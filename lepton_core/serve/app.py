"""The FastAPI app of `lepton serve`: /predict through the micro-batcher, health, info, metrics and docs.

``/predict`` reads the body itself: it refuses an oversized body (413) before parsing it, refuses
NaN/infinity, validates all items in one pydantic-core call (422 with the field path), and answers 503
with Retry-After while loading or when the queue is full. An unexpected failure answers 500 with an
opaque message and a request id; the traceback goes to the server log only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Union

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from lepton_core.deploy.drift import DRIFT_REFERENCE_NAME, DriftMonitor
from lepton_core.deploy.validation import InvalidItems, ItemValidator
from lepton_core.errors import DataError
from lepton_core.serve.batcher import MicroBatcher, QueueFull
from lepton_core.serve.metrics import ServerMetrics

__all__ = ["ServeSettings", "create_app"]

log = logging.getLogger("lepton.serve")

ROUTES = frozenset({"/predict", "/livez", "/readyz", "/info", "/metrics", "/docs", "/openapi.json"})
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON = "application/json"


@dataclass(frozen=True)
class ServeSettings:
    """Limits of the server: body size, batch size, queue bound and the Retry-After it advertises."""

    max_body_bytes: int = 1 << 20
    max_batch_size: int = 64
    max_queue_items: int = 1024
    retry_after_s: int = 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not accepted (numbers must be finite)")


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    return given if given and REQUEST_ID.match(given) else uuid.uuid4().hex


def _error(status: int, detail: Any, request_id: str, **headers: str) -> Response:
    body = json.dumps({"detail": detail, "request_id": request_id})
    return Response(body, status_code=status, media_type=JSON, headers={"X-Request-ID": request_id, **headers})


def _unprocessable(loc: list[Any], msg: str, kind: str, request_id: str) -> Response:
    return _error(422, [{"loc": loc, "msg": msg, "type": kind}], request_id)


class MetricsMiddleware:
    """Pure ASGI middleware: count every HTTP request by route and status, and time it."""

    def __init__(self, app: Any, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            path = scope["path"]
            self.metrics.observe_request(path if path in ROUTES else "other", status, time.perf_counter() - start)


def _drift_monitor(bundle_dir: Path, manifest: dict[str, Any]) -> DriftMonitor:
    from lepton_core.bundle.manifest import safe_member

    if DRIFT_REFERENCE_NAME not in manifest.get("files", {}):
        return DriftMonitor({})
    return DriftMonitor(json.loads(safe_member(bundle_dir, DRIFT_REFERENCE_NAME).read_text("utf-8")))


def create_app(loaded: Any, runtime: str, settings: ServeSettings | None = None) -> FastAPI:
    """Build the app for a loaded bundle whose predictor already runs on ``runtime``."""
    settings = settings or ServeSettings()
    predictor = loaded.predictor
    input_model, output_model = predictor.input_model, predictor.output_model
    validate = ItemValidator(input_model)
    drift = _drift_monitor(loaded.path, loaded.manifest)
    batcher = MicroBatcher(
        predictor.predict_items, settings.max_batch_size, settings.max_queue_items, after_batch=drift.update
    )
    metrics = ServerMetrics(lambda: batcher.depth, drift.snapshot)
    batcher.on_batch = metrics.observe_batch
    state: dict[str, Any] = {"ready": False, "error": None}
    retry = {"Retry-After": str(settings.retry_after_s)}

    def warm_up() -> None:
        examples = validate(list(loaded.manifest.get("input_example") or []))
        if examples:
            for size in (1, len(examples), settings.max_batch_size):
                predictor.predict_items((examples * size)[:size])

    async def finish_loading() -> None:
        try:
            await asyncio.to_thread(warm_up)
        except Exception:  # noqa: BLE001 - logged; the server stays unready
            log.exception("warm-up failed; /readyz stays 503")
            state["error"] = "warm-up failed (see the server log)"
            return
        state["ready"] = metrics.ready = True

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        loading = asyncio.create_task(finish_loading())
        try:
            yield
        finally:
            loading.cancel()
            await asyncio.to_thread(batcher.stop)

    title = f"Lepton · {loaded.plugin} / {loaded.task}"
    app = FastAPI(
        title=title,
        version=str(loaded.manifest.get("plugin", {}).get("version", "0")),
        description=f"Predictions of the `{loaded.plugin}` bundle for task `{loaded.task}` (runtime: {runtime}).",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    item_ref = {"$ref": f"#/components/schemas/{input_model.__name__}"}

    @app.exception_handler(Exception)
    async def opaque_error(request: Request, exc: Exception) -> Response:
        request_id = _request_id(request)
        log.error("request %s failed", request_id, exc_info=exc)
        return _error(500, "internal error", request_id)

    @app.post(
        "/predict",
        summary="Predict one item (object in, object out) or a list of items (list in, list out)",
        response_model=Union[output_model, list[output_model]],  # noqa: UP007 - a runtime type for the schema
        responses={
            413: {"description": f"Body larger than {settings.max_body_bytes} bytes"},
            422: {"description": "Invalid item: `detail[].loc` is the field path"},
            503: {"description": "Loading, or queue full: retry after `Retry-After` seconds"},
            500: {"description": "Unexpected failure: an opaque message and a request id"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"anyOf": [item_ref, {"type": "array", "items": item_ref}]}}},
            }
        },
    )
    async def predict(request: Request) -> Response:
        request_id = _request_id(request)
        if not state["ready"]:
            return _error(503, "model is loading", request_id, **retry)
        length = request.headers.get("content-length")
        limit = settings.max_body_bytes
        too_large = f"body larger than {limit} bytes; send fewer items per request"
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _error(413, too_large, request_id)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _error(413, too_large, request_id)
        try:
            payload = json.loads(body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            return _unprocessable(["body"], f"invalid JSON: {exc}", "json_invalid", request_id)
        single = isinstance(payload, dict)
        if not single and not isinstance(payload, list):
            return _unprocessable(["body"], "send one item (an object) or a list of items", "body_type", request_id)
        records = [payload] if single else payload
        if not records:
            return Response("[]", media_type=JSON, headers={"X-Request-ID": request_id})
        try:
            items = validate(records)
        except InvalidItems as exc:
            detail = [{**e, "loc": ["body", *(e["loc"][1:] if single else e["loc"])]} for e in exc.errors]
            return _error(422, detail, request_id)
        try:
            outputs = await batcher.submit(items, records)
            content = json.dumps(outputs[0] if single else outputs, allow_nan=False)
        except QueueFull:
            return _error(503, "server busy: queue full", request_id, **retry)
        except DataError as exc:
            return _unprocessable(["body"], exc.problem, "data_error", request_id)
        except Exception as exc:  # noqa: BLE001 - opaque to the client, full traceback in the log
            log.error("request %s failed", request_id, exc_info=exc)
            return _error(500, "internal error", request_id)
        return Response(content, media_type=JSON, headers={"X-Request-ID": request_id})

    @app.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", summary="Readiness: 200 once the model is loaded and warmed up, 503 before")
    async def readyz() -> Response:
        if state["ready"]:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": state["error"] or "loading"}, status_code=503, headers=retry)

    @app.get("/info", summary="Manifest, schemas, test metrics, runtime, batching limits and input drift")
    async def info() -> dict[str, Any]:
        manifest = loaded.manifest
        return {
            "plugin": loaded.plugin,
            "task": loaded.task,
            "runtime": runtime,
            "ready": state["ready"],
            "input_kind": predictor.input_kind,
            "input_schema": input_model.model_json_schema(),
            "output_schema": output_model.model_json_schema(),
            "metrics": loaded.metrics,
            "manifest": manifest,
            "settings": asdict(settings),
            "queue_depth": batcher.depth,
            "drift": {"psi_reading": "<0.1 stable, 0.1-0.25 moderate, >0.25 major shift", "features": drift.snapshot()},
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            item_schema = input_model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(item_schema.pop("$defs", {}))
            components[input_model.__name__] = item_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.batcher, app.state.metrics, app.state.drift = batcher, metrics, drift
    return app
