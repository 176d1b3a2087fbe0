"""Pick routing through the layout: OR-Tools (a TSP per pick list) or the S-shape traversal, and pick times.

The OR-Tools search is deterministic: cheapest-arc construction, then guided local search capped by a number
of solutions, never by a clock, so a route does not depend on the machine's speed or load.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from lepton_core.errors import ConfigError
from lepton_logistics.warehouse.layout import Layout

CM_PER_M = 100
ROUTERS = ("ortools", "s_shape")


@dataclass(frozen=True)
class PickSettings:
    """Travel speed and pick times (seconds) that turn a route into a pick time, and the solver's cap."""

    speed_mps: float = 1.0
    pick_time_s: float = 6.0
    unit_pick_s: float = 1.0
    order_setup_s: float = 30.0
    solution_limit: int = 10

    def __post_init__(self) -> None:
        if self.speed_mps <= 0 or min(self.pick_time_s, self.unit_pick_s, self.order_setup_s) < 0:
            raise ConfigError("task.speed_mps must be positive and pick/setup times not negative",
                              "fix the task section")
        if self.solution_limit < 1:
            raise ConfigError(f"task.solution_limit={self.solution_limit} must be at least 1", "set it to 1 or more")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PickSettings:
        """Settings from the task config or a bundle's state (other keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: values[k] for k in names if values.get(k) is not None})

    def to_state(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


@dataclass(frozen=True)
class Route:
    """Visit order (indices into the pick list), waypoints (aisle, x, y) from depot to depot, and distance (m)."""

    order: tuple[int, ...]
    waypoints: tuple[tuple[int, float, float], ...]
    distance_m: float


def _path_distance(layout: Layout, waypoints: Sequence[tuple[int, float, float]]) -> float:
    a, x, y = (np.array(c) for c in zip(*waypoints))
    return float(layout.distance(a[:-1], x[:-1], y[:-1], a[1:], x[1:], y[1:]).sum())


def _closed(layout: Layout, slots: np.ndarray, order: Sequence[int]) -> Route:
    a, x, y = layout.points(slots)
    stops = [(int(a[i + 1]), float(x[i + 1]), float(y[i + 1])) for i in order]
    depot = (int(a[0]), float(x[0]), float(y[0]))
    waypoints = (depot, *stops, depot)
    return Route(tuple(int(i) for i in order), waypoints, _path_distance(layout, waypoints))


def ortools_route(layout: Layout, slots: Sequence[int], solution_limit: int = 10) -> Route:
    """Shortest tour found by OR-Tools from the depot through every slot and back (deterministic)."""
    slots = np.asarray(slots, dtype=np.int64)
    if len(slots) <= 2:  # every order of two stops walks the same distance (the metric is symmetric)
        return _closed(layout, slots, range(len(slots)))
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    cost = np.rint(layout.matrix(slots) * CM_PER_M).astype(np.int64).tolist()
    manager = pywrapcp.RoutingIndexManager(len(slots) + 1, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost))
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.solution_limit = int(solution_limit)
    solution = routing.SolveWithParameters(parameters)
    order, index = [], solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index) - 1)
        index = solution.Value(routing.NextVar(index))
    return _closed(layout, slots, order)


def s_shape_route(layout: Layout, slots: Sequence[int]) -> Route:
    """S-shape (traversal): walk every aisle with a pick end to end, alternating direction; with an odd number of
    aisles the last is entered and left from the front. Aisles left to right or right to left, the shorter."""
    slots = np.asarray(slots, dtype=np.int64)
    aisles = sorted(set(layout.aisle[slots].tolist()))
    length = layout.aisle_length_m
    depot = (-1, layout.depot_x_m, 0.0)
    best: Route | None = None
    for sequence in (aisles, aisles[::-1]):
        order: list[int] = []
        waypoints: list[tuple[int, float, float]] = [depot]
        for k, aisle in enumerate(sequence):
            members = np.flatnonzero(layout.aisle[slots] == aisle)
            members = members[np.argsort(layout.y[slots[members]], kind="stable")]
            x = float(aisle * layout.aisle_spacing_m)
            last_and_odd = k == len(sequence) - 1 and len(sequence) % 2 == 1
            if k % 2 == 1:
                members = members[::-1]
            order += members.tolist()
            ends = ((aisle, x, 0.0), (aisle, x, 0.0)) if last_and_odd else \
                ((aisle, x, length), (aisle, x, 0.0)) if k % 2 else ((aisle, x, 0.0), (aisle, x, length))
            stops = [(int(aisle), x, float(layout.y[slots[m]])) for m in members]
            waypoints += [ends[0], *stops, ends[1]]
        waypoints.append(depot)
        route = Route(tuple(order), tuple(waypoints), _path_distance(layout, waypoints))
        if best is None or route.distance_m < best.distance_m - 1e-9:
            best = route
    assert best is not None
    return best


def route(layout: Layout, slots: Sequence[int], router: str, settings: PickSettings) -> Route:
    """The route of one pick list by ``router`` ('ortools' or 's_shape')."""
    if router == "ortools":
        return ortools_route(layout, slots, settings.solution_limit)
    if router == "s_shape":
        return s_shape_route(layout, slots)
    raise ConfigError(f"unknown router '{router}'", f"use one of {', '.join(ROUTERS)}")


def pick_seconds(layout: Layout, slots: np.ndarray, qty: np.ndarray, settings: PickSettings) -> float:
    """Time at the shelves: per line, per extra unit, and the level's extra time."""
    extra = layout.extra_pick_s(np.asarray(slots, dtype=np.int64))
    return float(np.sum(settings.pick_time_s + settings.unit_pick_s * (np.asarray(qty) - 1) + extra))


def order_seconds(distance_m: float, pick_s: float, settings: PickSettings) -> float:
    """Setup at the depot + walking + picking."""
    return settings.order_setup_s + distance_m / settings.speed_mps + pick_s


def drawn_path(layout: Layout, waypoints: Sequence[tuple[int, float, float]]) -> tuple[list[float], list[float]]:
    """x and y of the walked polyline: legs between aisles go round by the front or back cross-aisle."""
    length = layout.aisle_length_m
    xs, ys = [waypoints[0][1]], [waypoints[0][2]]
    for (a1, x1, y1), (a2, x2, y2) in itertools.pairwise(waypoints):
        if a1 != a2 and x1 != x2:
            cross = 0.0 if y1 + y2 <= 2 * length - y1 - y2 else length
            xs += [x1, x2]
            ys += [cross, cross]
        xs.append(x2)
        ys.append(y2)
    return xs, ys
