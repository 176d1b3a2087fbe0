"""The route_optimization predictor: a routing problem (orders + vehicles) in, routes + KPIs + causes out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from pydantic import BaseModel

from lepton_core.deploy import Predictor
from lepton_core.hooks.specs import DeployContext
from lepton_logistics.routing.planner import RoutingSettings, plan_routes
from lepton_logistics.routing.problem import RoutingProblem


class Stop(BaseModel):
    """One delivery on a route."""

    order: str
    arrival_min: float
    service_start_min: float
    on_time: bool
    load_after: float


class Route(BaseModel):
    """One vehicle's tour."""

    vehicle: str
    capacity: float
    load: float
    over_capacity: bool
    distance_km: float
    start_min: float
    end_min: float
    duration_min: float
    returns_after_close: bool
    stops: list[Stop]


class DroppedOrder(BaseModel):
    """An order left out of the plan and what leaving it costs."""

    order: str
    demand: float
    penalty: float


class Cause(BaseModel):
    """A constraint that keeps some orders out of every plan."""

    constraint: str
    orders: list[str]
    detail: str


class RoutingPlan(BaseModel):
    """The plan: routes, dropped orders, KPIs, and why it is infeasible when ``feasible`` is false."""

    planner: str
    travel_times: str
    feasible: bool
    routes: list[Route]
    dropped: list[DroppedOrder]
    kpis: dict[str, float]
    infeasibility: list[Cause]


class RoutingPredictor(Predictor):
    """Solves each problem with OR-Tools under the bundle's time limit (no neural module)."""

    input_model = RoutingProblem
    output_model = RoutingPlan
    input_kind = "json"

    def __init__(self, settings: RoutingSettings) -> None:
        super().__init__(None)
        self.settings = settings

    @classmethod
    def from_context(cls, ctx: DeployContext) -> RoutingPredictor:
        """Rebuild the planning settings from the bundle's state."""
        names = {f.name for f in fields(RoutingSettings)}
        return cls(RoutingSettings(**{k: v for k, v in ctx.state.items() if k in names}))

    def predict(self, records: Sequence[Mapping[str, Any] | BaseModel]) -> list[dict[str, Any]]:
        """Plan every problem (a bad field or coordinate raises DataError before any solving)."""
        problems = self.validate(records)
        return [plan_routes(problem, self.settings) for problem in problems]  # type: ignore[arg-type]
