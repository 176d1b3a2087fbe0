"""Capacitated vehicle routing with time windows, solved by OR-Tools' routing library under a time limit.

Orders may be dropped at a penalty (a disjunction per order), so the solver always returns a plan; the
diagnosis module then names the constraints that forced each drop.
"""

from __future__ import annotations

import time

import numpy as np

from lepton_logistics.routing.plan import Costs, Plan
from lepton_logistics.routing.problem import RoutingProblem
from lepton_logistics.routing.travel import TravelMatrices

METERS_PER_KM = 1000
SECONDS_PER_MIN = 60
DEMAND_SCALE = 100


def solve_routing(problem: RoutingProblem, travel: TravelMatrices, costs: Costs, time_limit_s: float) -> Plan:
    """Plan routes minimising distance + drop penalties + vehicle costs, stopping at ``time_limit_s``."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    started = time.perf_counter()
    n_nodes, n_vehicles = len(problem.orders) + 1, len(problem.vehicles)
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    distance_m = np.rint(travel.distance_km * METERS_PER_KM).astype(np.int64).tolist()
    service_s = [0] + [int(round(o.service_min * SECONDS_PER_MIN)) for o in problem.orders]
    transit_s = np.ceil(travel.time_min * SECONDS_PER_MIN).astype(np.int64)
    transit_s += np.asarray(service_s, dtype=np.int64)[:, None]
    transit_s = transit_s.tolist()
    demands = [0] + [int(round(o.demand * DEMAND_SCALE)) for o in problem.orders]

    def distance_callback(from_index: int, to_index: int) -> int:
        return distance_m[manager.IndexToNode(from_index)][manager.IndexToNode(to_index)]

    def time_callback(from_index: int, to_index: int) -> int:
        return transit_s[manager.IndexToNode(from_index)][manager.IndexToNode(to_index)]

    def demand_callback(from_index: int) -> int:
        return demands[manager.IndexToNode(from_index)]

    distance_index = routing.RegisterTransitCallback(distance_callback)
    routing.SetArcCostEvaluatorOfAllVehicles(distance_index)
    if costs.vehicle_cost_km > 0:
        routing.SetFixedCostOfAllVehicles(int(costs.vehicle_cost_km * METERS_PER_KM))

    open_s = int(problem.depot.open_min * SECONDS_PER_MIN)
    close_s = int(problem.depot.close_min * SECONDS_PER_MIN)
    time_index = routing.RegisterTransitCallback(time_callback)
    routing.AddDimension(time_index, close_s, close_s, False, "Time")
    time_dimension = routing.GetDimensionOrDie("Time")
    for node, order in enumerate(problem.orders, start=1):
        begin = max(int(order.window_start_min * SECONDS_PER_MIN), 0)
        end = min(int(order.window_end_min * SECONDS_PER_MIN), close_s)
        cumul = time_dimension.CumulVar(manager.NodeToIndex(node))
        if begin <= end:
            cumul.SetRange(begin, end)
        else:
            routing.solver().Add(routing.ActiveVar(manager.NodeToIndex(node)) == 0)
    for vehicle in range(n_vehicles):
        for index in (routing.Start(vehicle), routing.End(vehicle)):
            time_dimension.CumulVar(index).SetRange(open_s, close_s)
        routing.AddVariableMaximizedByFinalizer(time_dimension.CumulVar(routing.Start(vehicle)))
        routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(routing.End(vehicle)))

    demand_index = routing.RegisterUnaryTransitCallback(demand_callback)
    capacities = [int(round(v.capacity * DEMAND_SCALE)) for v in problem.vehicles]
    routing.AddDimensionWithVehicleCapacity(demand_index, 0, capacities, True, "Capacity")

    penalty = int(costs.drop_penalty_km * METERS_PER_KM)
    for node in range(1, n_nodes):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 100))
    solution = routing.SolveWithParameters(parameters)

    routes: list[tuple[int, ...]] = []
    starts: list[float] = []
    for vehicle in range(n_vehicles):
        sequence: list[int] = []
        start_s = open_s
        if solution is not None:
            start_s = solution.Min(time_dimension.CumulVar(routing.Start(vehicle)))
            index = solution.Value(routing.NextVar(routing.Start(vehicle)))
            while not routing.IsEnd(index):
                sequence.append(manager.IndexToNode(index) - 1)
                index = solution.Value(routing.NextVar(index))
        routes.append(tuple(sequence))
        starts.append(start_s / SECONDS_PER_MIN)
    return Plan("ortools", tuple(routes), tuple(starts), time.perf_counter() - started)
