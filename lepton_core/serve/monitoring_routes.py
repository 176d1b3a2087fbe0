"""The monitoring routes of `lepton serve`: POST /feedback, GET /monitoring.json and the live /dashboard."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from lepton_core.monitoring.dashboard import dashboard_html
from lepton_core.monitoring.live import LiveMonitor

__all__ = ["FeedbackItem", "add_monitoring_routes"]

MAX_FEEDBACK_ITEMS = 10_000
MAX_LABEL_STEPS = 10_000
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class FeedbackItem(BaseModel):
    """The ground truth of one answered item: its request id (X-Request-ID), its index in a list request, the label."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    request_id: str = Field(pattern=REQUEST_ID_PATTERN)
    item: int = Field(0, ge=0, le=MAX_FEEDBACK_ITEMS)
    label: bool | int | float | Annotated[str, Field(max_length=200)] | Annotated[
        list[float], Field(min_length=1, max_length=MAX_LABEL_STEPS)
    ]


FEEDBACK = TypeAdapter(FeedbackItem | Annotated[list[FeedbackItem], Field(max_length=MAX_FEEDBACK_ITEMS)])


def add_monitoring_routes(app: FastAPI, monitor: LiveMonitor | None, settings: Any) -> None:
    """Add /feedback, /monitoring.json and /dashboard (409 for the first two when monitoring is off)."""
    from lepton_core.serve.app import read_body

    off = {"detail": "monitoring is off (lepton serve --no-log): no prediction is kept to label"}

    @app.post("/feedback", summary="Labels by request id: one {request_id, item, label} or a list of them")
    async def feedback(request: Request) -> Response:
        if monitor is None:
            return JSONResponse(off, status_code=409)
        body = await read_body(dict(request.scope["headers"]), request.receive, settings.max_body_bytes)
        if isinstance(body, tuple):
            return JSONResponse({"detail": body[2]}, status_code=body[0])
        try:
            parsed = FEEDBACK.validate_json(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)[:20]
            detail = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
            return JSONResponse({"detail": detail, "more_errors": max(exc.error_count() - 20, 0)}, status_code=422)
        items = [parsed] if isinstance(parsed, FeedbackItem) else parsed
        return JSONResponse(await asyncio.to_thread(monitor.feedback, [i.model_dump() for i in items]))

    @app.get("/monitoring.json", summary="Windowed drift, volume, latency and live metrics (what /dashboard plots)")
    async def monitoring_json() -> Response:
        if monitor is None:
            return JSONResponse(off, status_code=409)
        snapshot = await asyncio.to_thread(monitor.snapshot)
        return Response(json.dumps(snapshot, allow_nan=False, default=str), media_type="application/json")

    @app.get("/dashboard", summary="Live monitoring page (refreshes itself; no network needed)", include_in_schema=False)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(dashboard_html(app.title), headers={"Cache-Control": "no-store"})
