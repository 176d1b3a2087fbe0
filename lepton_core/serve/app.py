"""The app of `lepton serve`: /predict through the micro-batcher, health, info, Prometheus metrics and docs.

``/predict`` is a plain ASGI endpoint (no per-request dependency solving): it refuses an oversized body
(413) before parsing it, refuses NaN/infinity, lone surrogates and deep nesting, validates items a few
hundred per pydantic-core call (422 with the field paths of the first errors and a count of the rest),
answers 413 for an image over the pixel limit, and 503 with Retry-After while loading or when the queue
is full. Bodies over 16 KiB are parsed and validated on a thread, so a large body never holds up the
event loop. An unexpected failure answers 500 with an opaque message and a request id; the traceback
goes to the server log only. With an ``AccessControl``, every route but /livez and /readyz needs the API
key and a known Host. /info and the OpenAPI description (/docs, served with its own Swagger UI files, no
network needed) are built from the plugin's input and output schemas, never from training rows; input
drift is published on /metrics, /monitoring.json and /dashboard only. ``POST /feedback`` takes labels by
request id (see docs/monitoring.md).
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import importlib.util
import itertools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from lepton_core.deploy.drift import DRIFT_REFERENCE_NAME
from lepton_core.deploy.validation import MAX_DEPTH, MAX_ERRORS, InvalidItems, ItemValidator
from lepton_core.errors import ConfigError, DataError
from lepton_core.monitoring.live import LiveMonitor, MonitorOptions
from lepton_core.monitoring.profile import MonitorProfile, model_version
from lepton_core.serve.batcher import MicroBatcher, QueueFull
from lepton_core.serve.metrics import ServerMetrics
from lepton_core.serve.monitoring_routes import add_monitoring_routes
from lepton_core.vision.images import DEFAULT_MAX_IMAGE_PIXELS, ImageTooLarge, max_image_pixels

__all__ = ["AccessControl", "ServeSettings", "create_app"]

log = logging.getLogger("lepton.serve")

ROUTES = frozenset({
    "/predict", "/livez", "/readyz", "/info", "/metrics", "/docs", "/openapi.json", "/feedback", "/dashboard",
    "/monitoring.json",
})
OPEN_ROUTES = frozenset({"/livez", "/readyz"})
DOCS_STATIC = "/docs/static"
SWAGGER_UI_FILES = str(Path(importlib.util.find_spec("fastapi_offline").origin).parent / "static")  # type: ignore[arg-type, union-attr]
"""Swagger UI's script, style sheet and icon, shipped by the fastapi-offline package: /docs works offline."""
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON = "application/json"
INLINE_PARSE_BYTES = 16 << 10
"""Bodies up to this size are parsed and validated on the event loop (a thread hop costs more than they do)."""
_ID_PREFIX = uuid.uuid4().hex[:12]
_ids = itertools.count(1)


OPTION_NAMES = {
    "max_body_bytes": "--max-body-bytes",
    "max_batch_size": "--max-batch-size",
    "max_queue_items": "--max-queue",
    "retry_after_s": "retry_after_s",
    "max_connections": "--max-connections",
    "header_timeout_s": "--header-timeout",
    "body_timeout_s": "--body-timeout",
    "keep_alive_s": "--keep-alive-timeout",
    "max_header_bytes": "--max-header-bytes",
    "max_image_pixels": "--max-image-pixels",
}


@dataclass(frozen=True)
class ServeSettings:
    """Limits of the server: body, batch, queue, connections, timeouts, image pixels, and torch threads.

    ``torch_threads`` 0 means half the CPU cores (at least one): the other half stays free for the HTTP
    event loop. Many intra-op threads on small batches cost far more in thread wake-ups than they gain.
    Timeouts are in seconds: a connection must send its request head within ``header_timeout_s`` of
    opening (or of its previous response) and its body within ``body_timeout_s`` after that; an idle
    keep-alive connection is closed after ``keep_alive_s``. ``max_image_pixels`` is process-wide: it is
    applied by ``serve_bundle``. Every limit must be positive (a ConfigError names the option otherwise).
    """

    max_body_bytes: int = 1 << 20
    max_batch_size: int = 64
    max_queue_items: int = 1024
    retry_after_s: int = 1
    torch_threads: int = 0
    max_connections: int = 1000
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_s: float = 5.0
    max_header_bytes: int = 64 << 10
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS

    def __post_init__(self) -> None:
        for name, option in OPTION_NAMES.items():
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ConfigError(f"{option} {value} is not a positive number", f"pass {option} above 0")
        if self.torch_threads < 0:
            raise ConfigError(
                f"--torch-threads {self.torch_threads} is negative", "pass 0 (half the cores) or a positive count"
            )

    def resolved_torch_threads(self) -> int:
        """The intra-op thread count to use."""
        return self.torch_threads if self.torch_threads > 0 else max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class AccessControl:
    """Who may call the server: an API key (``Authorization: Bearer KEY``) and the Host names it answers to.

    With ``api_key`` set every route but /livez and /readyz needs the key (401 otherwise); with
    ``allowed_hosts`` set a request naming another Host gets 400 (DNS rebinding). Health routes stay open
    to both so load balancers and orchestrators can probe the server.
    """

    api_key: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What /info shows: whether a key is needed and the allowed hosts (never the key)."""
        return {"api_key_required": self.api_key is not None, "allowed_hosts": list(self.allowed_hosts) or ["*"]}


def _request_id(given: str | None) -> str:
    """The client's X-Request-ID when sane, else a fresh process-unique id."""
    return given if given and REQUEST_ID.match(given) else f"{_ID_PREFIX}-{next(_ids):x}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not accepted (numbers must be finite)")


def _detail(loc: list[Any], msg: str, kind: str) -> list[dict[str, Any]]:
    return [{"loc": loc, "msg": msg, "type": kind}]


async def read_body(headers: dict[bytes, bytes], receive: Any, limit: int) -> bytes | tuple[int, None, str]:
    """The request body, or the error answer: 400 for a bad Content-Length, 413 past ``limit``, 499 on disconnect."""
    too_large = f"body larger than {limit} bytes; send fewer items per request"
    length = headers.get(b"content-length")
    if length is not None and not length.isdigit():
        return 400, None, "Content-Length is not a number"
    if length is not None and int(length) > limit:
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
    return body


class PredictEndpoint:
    """POST /predict as a plain ASGI app: one item (object in, object out) or a list (list in, list out)."""

    def __init__(
        self,
        validate: ItemValidator,
        batcher: MicroBatcher,
        settings: ServeSettings,
        is_ready: Callable[[], bool],
        validation_pool: ThreadPoolExecutor,
    ) -> None:
        self.validate = validate
        self.batcher = batcher
        self.settings = settings
        self.is_ready = is_ready
        self.retry_after = str(settings.retry_after_s).encode()
        self.validation_pool = validation_pool

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id")
        request_id = _request_id(given.decode("latin-1") if given else None)
        try:
            status, payload, extra = await self._answer(headers, receive, request_id, started)
        except Exception as exc:  # opaque to the client, full traceback in the log
            log.error("request %s failed", request_id, exc_info=exc)
            status, payload, extra = 500, None, ()
        if payload is None:
            fields = {"detail": "internal error"} if status == 500 else extra if isinstance(extra, dict) else {"detail": extra}
            body = json.dumps({**fields, "request_id": request_id})
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

    async def parse_off_loop(self, body: bytes) -> tuple[int, Any, Any]:
        """``parse`` on the validation threads: a large body never holds up the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.validation_pool, self.parse, body)

    def parse(self, body: bytes) -> tuple[int, Any, Any]:
        """(200, (records, validated items, single item?), ()) or the error answer (status, None, detail)."""
        try:
            payload = json.loads(body, parse_constant=_refuse_constant)
        except RecursionError:
            return 422, None, _detail(["body"], f"JSON nested deeper than {MAX_DEPTH} levels", "too_deep")
        except (ValueError, UnicodeDecodeError) as exc:
            return 422, None, _detail(["body"], f"invalid JSON: {exc}", "json_invalid")
        single = isinstance(payload, dict)
        if not single and not isinstance(payload, list):
            return 422, None, _detail(["body"], "send one item (an object) or a list of items", "body_type")
        records = [payload] if single else payload
        try:
            items = self.validate(records)
        except InvalidItems as exc:
            detail = [{**e, "loc": ["body", *(e["loc"][1:] if single else e["loc"])]} for e in exc.errors]
            counts = {"more_errors": exc.more, "unchecked_items": exc.unchecked}
            return 422, None, {"detail": detail, **{k: v for k, v in counts.items() if v}}
        return 200, (records, items, single), ()

    async def _answer(
        self, headers: dict[bytes, bytes], receive: Any, request_id: str, started: float
    ) -> tuple[int, Any, Any]:
        """(status, JSON body of a success or None, error detail)."""
        if not self.is_ready():
            return 503, None, "model is loading"
        body = await read_body(headers, receive, self.settings.max_body_bytes)
        if isinstance(body, tuple):
            return body
        parsed = self.parse(body) if len(body) <= INLINE_PARSE_BYTES else await self.parse_off_loop(body)
        if parsed[0] != 200:
            return parsed
        _, (records, items, single), _ = parsed
        if not records:
            return 200, "[]", ()
        try:
            outputs = await self.batcher.submit(items, records, request_id, started)
        except QueueFull:
            return 503, None, "server busy: queue full"
        except ImageTooLarge as exc:
            return 413, None, str(exc)
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


class AccessMiddleware:
    """Pure ASGI middleware: the Host check and the API key of an AccessControl, except on health routes."""

    def __init__(self, app: Any, access: AccessControl) -> None:
        self.app = app
        self.key = access.api_key.encode() if access.api_key is not None else None
        self.guarded: Any = self.check_key
        if access.allowed_hosts:
            self.guarded = TrustedHostMiddleware(self.check_key, list(access.allowed_hosts), www_redirect=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_ROUTES:
            await self.app(scope, receive, send)
        else:
            await self.guarded(scope, receive, send)

    async def check_key(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Pass a request with the right ``Authorization: Bearer KEY`` (compared in constant time), else 401."""
        if self.key is None:
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="lepton"' + (', error="invalid_token"' if given else "")
        detail = "wrong API key" if given else "API key required: send Authorization: Bearer <key>"
        response = JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)


def monitor_profile(loaded: Any) -> MonitorProfile:
    """The monitoring profile of a loaded bundle (its drift reference read with the strict bundle reader)."""
    from lepton_core.bundle.loader import _read_json
    from lepton_core.bundle.manifest import read_manifest_bytes

    manifest = loaded.manifest
    reference = _read_json(loaded.path, DRIFT_REFERENCE_NAME) if DRIFT_REFERENCE_NAME in manifest.get("files", {}) else {}
    version = model_version(read_manifest_bytes(loaded.path)) if loaded.path is not None else "unversioned"
    return MonitorProfile.from_bundle(manifest, reference, loaded.metrics, version)


def published_schema(model: type[Any], ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """A model's JSON schema without any ``examples`` or ``example`` (a plugin may put training rows there)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("examples", "example")}
        return [strip(v) for v in node] if isinstance(node, list) else node

    return strip(model.model_json_schema(ref_template=ref_template))


def example_from_schema(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A value that fits ``schema`` built from the schema alone (types, enums, bounds): the /docs example."""
    if "$ref" in schema and depth < 8:
        return example_from_schema(components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"] or schema.get(key, [])
        if options:
            return example_from_schema(options[0], components, depth + 1)
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        properties = schema.get("properties", {})
        wanted = schema.get("required", list(properties))
        return {name: example_from_schema(properties[name], components, depth + 1) for name in wanted if name in properties}
    if kind == "array":
        return [example_from_schema(schema.get("items", {}), components, depth + 1)] * max(schema.get("minItems", 1), 1)
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(low, min(0, schema.get("maximum", schema.get("exclusiveMaximum", 0))))
        value += 1 if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"] else 0
        return int(value) if kind == "integer" else float(value)
    if kind == "string":
        return "x" * max(schema.get("minLength", 0), 1)
    return {"boolean": False}.get(kind)


def _predict_openapi(input_name: str, output_name: str, settings: ServeSettings, example: Any) -> dict[str, Any]:
    def one_or_many(name: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{name}"}
        return {"content": {JSON: {"schema": {"anyOf": [ref, {"type": "array", "items": ref}]}}}}

    request = one_or_many(input_name)
    request["content"][JSON]["examples"] = {
        "one item": {"summary": "One item (built from the schema)", "value": example},
        "a list": {"summary": "A list of items", "value": [example, example]},
    }
    return {
        "post": {
            "summary": "Predict one item (object in, object out) or a list of items (list in, list out)",
            "operationId": "predict",
            "requestBody": {"required": True, **request},
            "responses": {
                "200": {"description": "One output per input item", **one_or_many(output_name)},
                "400": {"description": "Host not allowed (with --allowed-host)"},
                "401": {"description": "Missing or wrong API key (with --api-key-file / LEPTON_API_KEY)"},
                "413": {"description": f"Body larger than {settings.max_body_bytes} bytes, or an image over the pixel limit"},
                "422": {
                    "description": "Invalid items: `detail[].loc` is the field path (the first "
                    f"{MAX_ERRORS} errors; `more_errors` counts the rest), NaN/infinity refused"
                },
                "503": {"description": "Loading, or queue full: retry after `Retry-After` seconds"},
                "500": {"description": "Unexpected failure: an opaque message and a request id"},
            },
        }
    }


def create_app(
    loaded: Any,
    runtime: str,
    settings: ServeSettings | None = None,
    access: AccessControl | None = None,
    monitoring: MonitorOptions | None = None,
) -> FastAPI:
    """Build the app for a loaded bundle whose predictor already runs on ``runtime``."""
    settings = settings or ServeSettings()
    access = access or AccessControl()
    monitoring = monitoring or MonitorOptions()
    validation_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lepton-validate")
    predictor = loaded.predictor
    input_model, output_model = predictor.input_model, predictor.output_model
    validate = ItemValidator(input_model)
    monitor = LiveMonitor(monitor_profile(loaded), monitoring.window, monitoring.log) if monitoring.enabled else None
    predict_items = predictor.items_predictor()
    batcher = MicroBatcher(
        predict_items, settings.max_batch_size, settings.max_queue_items,
        before_results=monitor.record if monitor is not None else None,
    )
    metrics = ServerMetrics(lambda: batcher.depth)
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
        # what is alive now (libraries, the model) lives as long as the server: keep it out of every garbage
        # collection, whose cost would otherwise grow with it (requests/s: +20-25% with monitoring on, +5%
        # without it; docs/monitoring.md, cost of logging)
        gc.collect()
        gc.freeze()
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
            validation_pool.shutdown(wait=False, cancel_futures=True)
            if monitor is not None:
                await asyncio.to_thread(monitor.close)

    app = FastAPI(
        title=f"Lepton · {loaded.plugin} / {loaded.task}",
        version=str(loaded.manifest.get("plugin", {}).get("version", "0")),
        description=f"Predictions of the `{loaded.plugin}` bundle for task `{loaded.task}` (runtime: {runtime}).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    if access.api_key is not None or access.allowed_hosts:
        app.add_middleware(AccessMiddleware, access=access)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_route(
        "/predict",
        PredictEndpoint(validate, batcher, settings, lambda: state["ready"], validation_pool),
        methods=["POST"],
    )
    app.mount(DOCS_STATIC, StaticFiles(directory=SWAGGER_UI_FILES), name="docs-static")

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

    manifest = loaded.manifest
    described = {key: manifest[key] for key in ("plugin", "created", "versions", "primary_metric") if key in manifest}
    input_schema, output_schema = published_schema(input_model), published_schema(output_model)

    @app.get("/info", summary="Plugin, task, versions, schemas, test metrics, runtime, limits and batching")
    async def info() -> dict[str, Any]:
        return {
            "plugin": loaded.plugin,
            "task": loaded.task,
            "runtime": runtime,
            "ready": state["ready"],
            "bundle": described,
            "input_kind": predictor.input_kind,
            "input_schema": input_schema,
            "output_schema": output_schema,
            "metrics": loaded.metrics,
            "settings": {**asdict(settings), "max_image_pixels": max_image_pixels()},
            "access": access.describe(),
            "batching": {
                "mode": "model thread" if batcher.offloaded else "inline on the event loop",
                "batch_seconds_ema": batcher.batch_seconds,
                "queue_depth": batcher.depth,
            },
        }

    @app.get("/metrics", summary="Prometheus metrics (requests, latency, batches, drift, live metrics)", response_class=PlainTextResponse)
    async def prometheus() -> Response:
        snapshot = await asyncio.to_thread(monitor.snapshot) if monitor is not None else None
        return Response(metrics.render(snapshot), media_type="text/plain; version=0.0.4; charset=utf-8")

    add_monitoring_routes(app, monitor, settings)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (input_model, output_model):
                model_schema = published_schema(model, "#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            example = example_from_schema(components[input_model.__name__], components)
            schema.setdefault("paths", {})["/predict"] = _predict_openapi(
                input_model.__name__, output_model.__name__, settings, example
            )
            if access.api_key is not None:
                components = schema["components"]
                components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
                schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.batcher, app.state.metrics, app.state.monitor = batcher, metrics, monitor
    return app
