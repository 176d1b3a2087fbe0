"""A routing plan (order sequence per vehicle) and its replay: arrival times, loads and the KPIs of the plan.

Every planner (solver or baseline) is scored by the same replay, so their KPIs compare like for like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lepton_logistics.routing.problem import RoutingProblem
from lepton_logistics.routing.travel import TravelMatrices


@dataclass(frozen=True)
class Plan:
    """Which orders each vehicle visits, in order (indices into ``problem.orders``), and when it leaves the depot."""

    planner: str
    routes: tuple[tuple[int, ...], ...]
    start_min: tuple[float, ...]
    solve_time_s: float = 0.0


@dataclass(frozen=True)
class Costs:
    """How a plan is priced: km driven, plus a penalty per dropped order and a fixed cost per vehicle used."""

    drop_penalty_km: float = 100.0
    vehicle_cost_km: float = 0.0


def replay(problem: RoutingProblem, travel: TravelMatrices, plan: Plan, costs: Costs) -> dict[str, Any]:
    """Replay a plan (waiting when early) and return it JSON-ready with its stops, dropped orders and KPIs."""
    routes, served, on_time = [], set(), 0
    total_distance = total_time = driving = 0.0
    for vehicle, sequence, start in zip(problem.vehicles, plan.routes, plan.start_min):
        if not sequence:
            continue
        clock, load, distance, drive, node = start, 0.0, 0.0, 0.0, 0
        stops = []
        for index in sequence:
            order = problem.orders[index]
            leg = travel.time_min[node, index + 1]
            arrival = clock + leg
            begin = max(arrival, order.window_start_min)
            load += order.demand
            in_window = begin <= order.window_end_min + 1e-6
            on_time += int(in_window)
            stops.append({
                "order": order.id, "arrival_min": round(float(arrival), 1),
                "service_start_min": round(float(begin), 1), "on_time": bool(in_window), "load_after": round(load, 3),
            })
            distance += travel.distance_km[node, index + 1]
            drive += leg
            clock, node = begin + order.service_min, index + 1
            served.add(index)
        distance += travel.distance_km[node, 0]
        drive += travel.time_min[node, 0]
        end = clock + travel.time_min[node, 0]
        routes.append({
            "vehicle": vehicle.id, "capacity": vehicle.capacity, "load": round(load, 3),
            "over_capacity": bool(load > vehicle.capacity + 1e-6), "distance_km": round(float(distance), 3),
            "start_min": round(float(start), 1), "end_min": round(float(end), 1),
            "duration_min": round(float(end - start), 1),
            "returns_after_close": bool(end > problem.depot.close_min + 1e-6), "stops": stops,
        })
        total_distance += distance
        total_time += end - start
        driving += drive
    dropped = [
        {"order": o.id, "demand": o.demand, "penalty": costs.drop_penalty_km}
        for i, o in enumerate(problem.orders) if i not in served
    ]
    penalty = costs.drop_penalty_km * len(dropped)
    kpis = {
        "plan_cost": float(total_distance + penalty + costs.vehicle_cost_km * len(routes)),
        "total_distance_km": float(total_distance),
        "total_time_min": float(total_time),
        "driving_time_min": float(driving),
        "vehicles_used": float(len(routes)),
        "served_orders": float(len(served)),
        "dropped_orders": float(len(dropped)),
        "drop_penalty": penalty,
        "on_time_share": on_time / len(problem.orders),
        "solve_time_s": plan.solve_time_s,
    }
    return {"planner": plan.planner, "travel_times": travel.source, "routes": routes, "dropped": dropped, "kpis": kpis}
