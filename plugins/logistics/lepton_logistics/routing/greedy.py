"""The routing baseline: a time-oriented nearest-neighbour construction that respects capacity and windows."""

from __future__ import annotations

import time

from lepton_logistics.routing.plan import Plan
from lepton_logistics.routing.problem import RoutingProblem
from lepton_logistics.routing.travel import TravelMatrices


def nearest_neighbour_plan(problem: RoutingProblem, travel: TravelMatrices) -> Plan:
    """Fill one vehicle at a time, always driving to the feasible order that can be served soonest."""
    started = time.perf_counter()
    unvisited = set(range(len(problem.orders)))
    close = problem.depot.close_min
    routes: list[tuple[int, ...]] = []
    for vehicle in problem.vehicles:
        clock, load, node, sequence = problem.depot.open_min, 0.0, 0, []
        while True:
            best, best_begin = None, float("inf")
            for index in unvisited:
                order = problem.orders[index]
                if load + order.demand > vehicle.capacity:
                    continue
                begin = max(clock + travel.time_min[node, index + 1], order.window_start_min)
                back = begin + order.service_min + travel.time_min[index + 1, 0]
                if begin <= order.window_end_min and back <= close and begin < best_begin:
                    best, best_begin = index, begin
            if best is None:
                break
            sequence.append(best)
            unvisited.discard(best)
            load += problem.orders[best].demand
            clock, node = best_begin + problem.orders[best].service_min, best + 1
        routes.append(tuple(sequence))
    starts = tuple(problem.depot.open_min for _ in problem.vehicles)
    return Plan("nearest_neighbour", tuple(routes), starts, time.perf_counter() - started)


class NearestNeighbourBaseline:
    """Baseline protocol wrapper: nothing to fit; ``predict`` plans a problem."""

    name = "nearest_neighbour"

    def fit(self, datamodule: object) -> NearestNeighbourBaseline:
        """Nothing to learn."""
        return self

    def predict(self, inputs: tuple[RoutingProblem, TravelMatrices]) -> Plan:
        """Plan ``(problem, travel)``."""
        problem, travel = inputs
        return nearest_neighbour_plan(problem, travel)
