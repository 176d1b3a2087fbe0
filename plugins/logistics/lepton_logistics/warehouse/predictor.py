"""The warehouse predictor: a pick list (and optionally the current slotting) in, the ordered pick route out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lepton_core.deploy import Predictor
from lepton_core.errors import DataError
from lepton_core.hooks.specs import DeployContext
from lepton_logistics.warehouse.layout import Layout
from lepton_logistics.warehouse.picking import PickSettings, order_seconds, pick_seconds, route

MAX_LINES = 200
MAX_SLOTTING_ROWS = 20000
Name = Field(min_length=1, max_length=64)


class PickLine(BaseModel):
    """One order line to pick."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Name
    qty: int = Field(1, ge=1, le=100000)


class SlotAssignment(BaseModel):
    """Where a SKU sits today."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Name
    location: str = Name


class PickRequest(BaseModel):
    """A pick list; ``slotting`` (optional) overrides the bundle's recommended slot of the SKUs it lists."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"order_id": "o1", "lines": [{"sku": "SKU0001", "qty": 2}, {"sku": "SKU0100", "qty": 1}]}]})
    order_id: str | None = Field(None, max_length=64)
    lines: list[PickLine] = Field(min_length=1, max_length=MAX_LINES)
    slotting: list[SlotAssignment] | None = Field(None, max_length=MAX_SLOTTING_ROWS)
    router: Literal["ortools", "s_shape"] = "ortools"
    include_slotting: bool = Field(False, description="also return the bundle's recommended slotting table")


class RouteStop(BaseModel):
    """One stop of the route, in walking order."""

    sku: str
    qty: int
    location: str
    aisle: int
    bay: int
    level: int
    x_m: float
    y_m: float


class RecommendedSlot(BaseModel):
    """A row of the recommended slotting: SKU, slot, and the forecast picks that placed it."""

    sku: str
    location: str
    forecast_picks: float


class PickRoute(BaseModel):
    """The route from the depot through every line and back, its distance and its estimated time."""

    order_id: str | None
    router: str
    stops: list[RouteStop]
    distance_m: float
    walking_time_s: float
    order_time_s: float
    slotting: list[RecommendedSlot] | None = None


class WarehousePredictor(Predictor):
    """Routes pick lists through the bundle's layout (no neural module: the forecast is in the slotting)."""

    input_model = PickRequest
    output_model = PickRoute
    input_kind = "json"

    def __init__(self, layout: Layout, settings: PickSettings, skus: Sequence[str], slot_of_sku: Sequence[int],
                 velocity: Sequence[float]) -> None:
        super().__init__(None)
        self.layout, self.settings = layout, settings
        self.slot = dict(zip(skus, (int(s) for s in slot_of_sku)))
        self.velocity = dict(zip(skus, (float(v) for v in velocity)))

    @classmethod
    def from_context(cls, ctx: DeployContext) -> WarehousePredictor:
        """Rebuild layout, settings and recommended slotting from the bundle's plain JSON state."""
        state = ctx.state
        return cls(Layout.from_state(state["layout"]), PickSettings.from_mapping(state["settings"]), state["skus"],
                   state["slot_of_sku"], state["velocity"])

    def _slots(self, request: PickRequest, number: int) -> np.ndarray:
        slot = dict(self.slot)
        for row in request.slotting or ():
            where = self.layout.index_of(row.location)
            if where is None:
                raise DataError(f"input item {number}: slotting puts {row.sku} at unknown location '{row.location}'",
                                "use location ids of the bundle's layout (see its recommended slotting)")
            slot[row.sku] = where
        unknown = [line.sku for line in request.lines if line.sku not in slot]
        if unknown:
            raise DataError(f"input item {number}: unknown SKU(s) {', '.join(dict.fromkeys(unknown[:3]))}",
                            "send SKUs of the bundle's slotting, or give their location in 'slotting'")
        return np.array([slot[line.sku] for line in request.lines], dtype=np.int64)

    def plan(self, request: PickRequest, slots: np.ndarray) -> dict[str, Any]:
        """The route of one pick list whose lines sit at ``slots``."""
        qty = np.array([line.qty for line in request.lines])
        walked = route(self.layout, slots, request.router, self.settings)
        layout = self.layout
        stops = [{"sku": request.lines[i].sku, "qty": int(qty[i]), "location": layout.names[slots[i]],
                  "aisle": int(layout.aisle[slots[i]]), "bay": int(layout.bay[slots[i]]),
                  "level": int(layout.level[slots[i]]), "x_m": float(layout.x[slots[i]]),
                  "y_m": round(float(layout.y[slots[i]]), 3)} for i in walked.order]
        result = {
            "order_id": request.order_id, "router": request.router, "stops": stops,
            "distance_m": round(walked.distance_m, 3), "walking_time_s": walked.distance_m / self.settings.speed_mps,
            "order_time_s": order_seconds(walked.distance_m, pick_seconds(layout, slots, qty, self.settings),
                                          self.settings),
            "slotting": None,
        }
        if request.include_slotting:
            result["slotting"] = [{"sku": sku, "location": layout.names[s], "forecast_picks": self.velocity[sku]}
                                  for sku, s in self.slot.items()]
        return result

    def predict(self, records: Sequence[Mapping[str, Any] | BaseModel]) -> list[dict[str, Any]]:
        """Route every pick list (a bad line, SKU or location raises DataError before any routing)."""
        requests: list[Any] = self.validate(records)
        slots = [self._slots(request, number) for number, request in enumerate(requests)]
        return [self.plan(request, where) for request, where in zip(requests, slots)]
