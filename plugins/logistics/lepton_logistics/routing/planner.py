"""Planning settings and the one entry point the run and the predictor share: problem -> routes + KPIs + causes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lepton_core.errors import ConfigError
from lepton_logistics.routing.diagnosis import infeasibility_causes
from lepton_logistics.routing.greedy import nearest_neighbour_plan
from lepton_logistics.routing.plan import Costs, Plan, replay
from lepton_logistics.routing.problem import RoutingProblem
from lepton_logistics.routing.solver import solve_routing
from lepton_logistics.routing.travel import TravelMatrices, matrices_from_eta, matrices_from_speed


@dataclass(frozen=True)
class RoutingSettings:
    """How travel times are obtained and plans are priced; ``eta_bundle`` (a path) replaces the constant speed."""

    speed_kmh: float = 25.0
    road_factor: float = 1.3
    time_limit_s: float = 10.0
    max_time_limit_s: float = 60.0
    drop_penalty_km: float = 100.0
    vehicle_cost_km: float = 0.0
    eta_bundle: str | None = None
    departure_hour: int = 8
    weekday: int = 1

    def costs(self) -> Costs:
        """The plan pricing."""
        return Costs(self.drop_penalty_km, self.vehicle_cost_km)

    def to_state(self) -> dict[str, Any]:
        """JSON-ready settings for the bundle."""
        return asdict(self)


def travel_matrices(problem: RoutingProblem, settings: RoutingSettings) -> TravelMatrices:
    """Travel times from the eta bundle when one is set, else from distance and speed."""
    if settings.eta_bundle is None:
        return matrices_from_speed(problem, problem.speed_kmh or settings.speed_kmh, settings.road_factor)
    predictor, state = _eta_predictor(settings.eta_bundle)
    return matrices_from_eta(problem, predictor, state, settings.road_factor, settings.departure_hour, settings.weekday)


@lru_cache(maxsize=4)
def _eta_predictor(path: str) -> tuple[Any, dict[str, Any]]:
    """The eta bundle's predictor and state, loaded (and hash-verified) once per path."""
    from lepton_core.bundle import load_bundle

    if not Path(path).is_dir():
        raise ConfigError(f"eta bundle not found: {path}", "train one with `lepton run plugin=logistics task=eta`")
    bundle = load_bundle(path)
    if bundle.plugin != "logistics" or bundle.task != "eta":
        raise ConfigError(f"{path} is a {bundle.plugin}/{bundle.task} bundle, not logistics/eta", "point at an eta bundle")
    return bundle.predictor, bundle.state


def plan_routes(
    problem: RoutingProblem, settings: RoutingSettings, travel: TravelMatrices | None = None, planner: str = "ortools"
) -> dict[str, Any]:
    """Plan with the solver (or the nearest-neighbour baseline) and explain any dropped order."""
    travel = travel or travel_matrices(problem, settings)
    if planner == "ortools":
        limit = min(problem.time_limit_s or settings.time_limit_s, settings.max_time_limit_s)
        plan = solve_routing(problem, travel, settings.costs(), limit)
    else:
        plan = nearest_neighbour_plan(problem, travel)
    return describe_plan(problem, travel, plan, settings)


def describe_plan(problem: RoutingProblem, travel: TravelMatrices, plan: Plan, settings: RoutingSettings) -> dict[str, Any]:
    """Replay a plan into routes and KPIs, and name the constraints behind any dropped order."""
    result = replay(problem, travel, plan, settings.costs())
    causes = infeasibility_causes(problem, travel, [d["order"] for d in result["dropped"]])
    result["feasible"] = not result["dropped"] and not causes
    result["infeasibility"] = causes
    return result
