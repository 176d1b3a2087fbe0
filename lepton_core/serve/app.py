"""The app of `lepton serve`: /predict through the micro-batcher, health, info, Prometheus metrics and docs.

``/predict`` is a plain ASGI endpoint (no per-request dependency solving): it refuses an oversized body
(413) before parsing it, refuses NaN/infinity, validates all items in one pydantic-core call (422 with
the field path), and answers 503 with Retry-After while loading or when the queue is full. An
unexpected failure answers 500 with an opaque message and a request id; the traceback goes to the
server log only. Its OpenAPI description (/docs) is built from the plugin's input and output models.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
_ID_PREFIX = uuid.uuid4().hex[:12]
_ids = itertools.count(1)


@dataclass(frozen=True)
class ServeSettings:
    """Limits of the server: body size, batch size, queue bound, Retry-After, and torch's intra-op threads.

    ``torch_threads`` 0 means half the CPU cores (at least one): the other half stays free for the HTTP
    event loop. Many intra-op threads on small batches cost far more in thread wake-ups than they gain.
    """

    max_body_bytes: int = 1 << 20
    max_batch_size: int = 64
    max_queue_items: int = 1024
    retry_after_s: int = 1
    torch_threads: int = 0

    def resolved_torch_threads(self) -> int:
        """The intra-op thread count to use."""
        return self.torch_threads if self.torch_threads > 0 else max(1, (os.cpu_count() or 2) // 2)


def _request_id(given: str | None) -> str:
    """The client's X-Request-ID when sane, else a fresh process-unique id."""
    return given if given and REQUEST_ID.match(given) else f"{_ID_PREFIX}-{next(_ids):x}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not accepted (numbers must be finite)")


def _detail(loc: list[Any], msg: str, kind: str) -> list[dict[str, Any]]:
    return [{"loc": loc, "msg": msg, "type": kind}]


class PredictEndpoint:
    """POST /predict as a plain ASGI app: one item (object in, object out) or a list (list in, list out)."""

    def __init__(
        self,
        validate: ItemValidator,
        batcher: MicroBatcher,
        settings: ServeSettings,
        is_ready: Callable[[], bool],
    ) -> None:
        self.validate = validate
        self.batcher = batcher
        self.settings = settings
        self.is_ready = is_ready
        self.retry_after = str(settings.retry_after_s).encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = _request_id(given.decode("latin-1") if given else None)
        try:
            status, payload, extra = await self._answer(headers, receive, request_id)
        except Exception as exc:  # opaque to the client, full traceback in the log
            log.error("request %s failed", request_id, exc_info=exc)
            status, payload, extra = 500, None, ()
        if payload is None:
            body = json.dumps({"detail": "internal error" if status == 500 else extra, "request_id": request_id})
            extra = (b"retry-after", self.retry_after) if status == 503 else ()
        else:
            body = payload
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        if extra:
            response_headers.append(extra)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body.encode() if isinstance(body, str) else body})

    async def _answer(self, headers: dict[bytes, bytes], receive: Any, request_id: str) -> tuple[int, Any, Any]:
        """(status, JSON body of a success or None, error detail)."""
        if not self.is_ready():
            return 503, None, "model is loading"
        limit = self.settings.max_body_bytes
        too_large = f"body larger than {limit} bytes; send fewer items per request"
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return 413, None, too_large
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 499, None, "client disconnected"
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return 413, None, too_large
        try:
            payload = json.loads(body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            return 422, None, _detail(["body"], f"invalid JSON: {exc}", "json_invalid")
        single = isinstance(payload, dict)
        if not single and not isinstance(payload, list):
            return 422, None, _detail(["body"], "send one item (an object) or a list of items", "body_type")
        records = [payload] if single else payload
        if not records:
            return 200, "[]", ()
        try:
            items = self.validate(records)
        except InvalidItems as exc:
            return 422, None, [{**e, "loc": ["body", *(e["loc"][1:] if single else e["loc"])]} for e in exc.errors]
        try:
            outputs = await self.batcher.submit(items, records)
        except QueueFull:
            return 503, None, "server busy: queue full"
        except DataError as exc:
            return 422, None, _detail(["body"], exc.problem, "data_error")
        try:
            return 200, json.dumps(outputs[0] if single else outputs, allow_nan=False), ()
        except ValueError:  # NaN/infinity out of the model: inputs beyond what it can compute with
            problem = "the model's output is not a finite number for these inputs (values out of range?)"
            return 422, None, _detail(["body"], problem, "non_finite_output")


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


def _predict_openapi(input_name: str, output_name: str, settings: ServeSettings) -> dict[str, Any]:
    def one_or_many(name: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{name}"}
        return {"content": {JSON: {"schema": {"anyOf": [ref, {"type": "array", "items": ref}]}}}}

    return {
        "post": {
            "summary": "Predict one item (object in, object out) or a list of items (list in, list out)",
            "operationId": "predict",
            "requestBody": {"required": True, **one_or_many(input_name)},
            "responses": {
                "200": {"description": "One output per input item", **one_or_many(output_name)},
                "413": {"description": f"Body larger than {settings.max_body_bytes} bytes"},
                "422": {"description": "Invalid item: `detail[].loc` is the field path (NaN/infinity refused)"},
                "503": {"description": "Loading, or queue full: retry after `Retry-After` seconds"},
                "500": {"description": "Unexpected failure: an opaque message and a request id"},
            },
        }
    }


def create_app(loaded: Any, runtime: str, settings: ServeSettings | None = None) -> FastAPI:
    """Build the app for a loaded bundle whose predictor already runs on ``runtime``."""
    settings = settings or ServeSettings()
    predictor = loaded.predictor
    input_model, output_model = predictor.input_model, predictor.output_model
    validate = ItemValidator(input_model)
    drift = _drift_monitor(loaded.path, loaded.manifest)
    predict_items = predictor.items_predictor()
    batcher = MicroBatcher(predict_items, settings.max_batch_size, settings.max_queue_items, after_batch=drift.update)
    metrics = ServerMetrics(lambda: batcher.depth, drift.snapshot)
    batcher.on_batch = metrics.observe_batch
    state: dict[str, Any] = {"ready": False, "error": None}
    retry = {"Retry-After": str(settings.retry_after_s)}

    def warm_up() -> None:
        """Run the bundle's example (one item, then all); a fast model also runs one full batch."""
        examples = validate(list(loaded.manifest.get("input_example") or []))
        for size in (1, len(examples), settings.max_batch_size) if examples else ():
            if size == settings.max_batch_size and batcher.batch_seconds > batcher.inline_budget_s:
                break
            start = time.perf_counter()
            predict_items((examples * size)[:size])
            batcher.batch_seconds = time.perf_counter() - start

    async def finish_loading() -> None:
        try:
            await asyncio.to_thread(warm_up)
        except Exception:  # logged; the server stays unready
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

    app = FastAPI(
        title=f"Lepton · {loaded.plugin} / {loaded.task}",
        version=str(loaded.manifest.get("plugin", {}).get("version", "0")),
        description=f"Predictions of the `{loaded.plugin}` bundle for task `{loaded.task}` (runtime: {runtime}).",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_route(
        "/predict", PredictEndpoint(validate, batcher, settings, lambda: state["ready"]), methods=["POST"]
    )

    @app.exception_handler(Exception)
    async def opaque_error(request: Request, exc: Exception) -> Response:
        request_id = _request_id(request.headers.get("x-request-id"))
        log.error("request %s failed", request_id, exc_info=exc)
        body = {"detail": "internal error", "request_id": request_id}
        return JSONResponse(body, status_code=500, headers={"X-Request-ID": request_id})

    @app.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", summary="Readiness: 200 once the model is loaded and warmed up, 503 before")
    async def readyz() -> Response:
        if state["ready"]:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": state["error"] or "loading"}, status_code=503, headers=retry)

    @app.get("/info", summary="Manifest, schemas, test metrics, runtime, batching and input drift")
    async def info() -> dict[str, Any]:
        return {
            "plugin": loaded.plugin,
            "task": loaded.task,
            "runtime": runtime,
            "ready": state["ready"],
            "input_kind": predictor.input_kind,
            "input_schema": input_model.model_json_schema(),
            "output_schema": output_model.model_json_schema(),
            "metrics": loaded.metrics,
            "manifest": loaded.manifest,
            "settings": asdict(settings),
            "batching": {
                "mode": "model thread" if batcher.offloaded else "inline on the event loop",
                "batch_seconds_ema": batcher.batch_seconds,
                "queue_depth": batcher.depth,
            },
            "drift": {"psi_reading": "<0.1 stable, 0.1-0.25 moderate, >0.25 major shift", "features": drift.snapshot()},
        }

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("paths", {})["/predict"] = _predict_openapi(
                input_model.__name__, output_model.__name__, settings
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (input_model, output_model):
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.batcher, app.state.metrics, app.state.drift = batcher, metrics, drift
    return app
