"""Why a plan cannot serve every order: the constraints (windows, capacities, depot hours) that force drops."""

from __future__ import annotations

from typing import Any

from lepton_logistics.routing.problem import RoutingProblem
from lepton_logistics.routing.travel import TravelMatrices


def _cause(constraint: str, orders: list[str], detail: str) -> dict[str, Any]:
    return {"constraint": constraint, "orders": orders, "detail": detail}


def _ids(ids: list[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def infeasibility_causes(problem: RoutingProblem, travel: TravelMatrices, dropped: list[str]) -> list[dict[str, Any]]:
    """Name what makes a full plan impossible: checks on the whole fleet, then each order, then the drops left over."""
    causes: list[dict[str, Any]] = []
    shortfall = problem.total_demand - problem.total_capacity
    if shortfall > 1e-9:
        causes.append(_cause(
            "fleet_capacity", [],
            f"orders need {problem.total_demand:g} units but the {len(problem.vehicles)} vehicles carry "
            f"{problem.total_capacity:g} in total (short by {shortfall:g}); add vehicles or capacity",
        ))
    largest = max(v.capacity for v in problem.vehicles)
    explained: set[str] = set()
    too_big = [o.id for o in problem.orders if o.demand > largest]
    if too_big:
        explained.update(too_big)
        causes.append(_cause(
            "vehicle_capacity", too_big,
            f"order(s) {_ids(too_big)} need more than the largest vehicle carries ({largest:g}); split them",
        ))
    open_, close = problem.depot.open_min, problem.depot.close_min
    late, after_close = [], []
    for node, order in enumerate(problem.orders, start=1):
        earliest = open_ + travel.time_min[0, node]
        begin = max(earliest, order.window_start_min)
        if earliest > order.window_end_min + 1e-6:
            late.append(f"{order.id} (window {order.window_start_min:g}-{order.window_end_min:g}, "
                        f"earliest arrival {earliest:.0f})")
            explained.add(order.id)
        elif begin + order.service_min + travel.time_min[node, 0] > close + 1e-6:
            after_close.append(order.id)
            explained.add(order.id)
    if late:
        causes.append(_cause(
            "time_window", [s.split(" ")[0] for s in late],
            f"window closes before any vehicle can arrive from the depot (opens {open_:g} min): {_ids(late, 5)}",
        ))
    if after_close:
        causes.append(_cause(
            "depot_hours", after_close,
            f"order(s) {_ids(after_close)} cannot be served and the vehicle back before the depot closes "
            f"({close:g} min)",
        ))
    rest = [i for i in dropped if i not in explained]
    if rest:
        by_id = {o.id: o for o in problem.orders}
        served_demand = problem.total_demand - sum(by_id[i].demand for i in dropped)
        spare = max(problem.total_capacity - served_demand, 0.0)
        needed = sum(by_id[i].demand for i in rest)
        binding = "capacity" if spare < needed else "time_window"
        why = (
            f"they need {needed:g} units but the fleet has only {spare:g} left after the served orders"
            if binding == "capacity"
            else "no vehicle could fit them into its route within their windows"
        )
        causes.append(_cause(
            binding, rest,
            f"order(s) {_ids(rest)} were dropped: {why}; add vehicles, widen windows or extend depot hours",
        ))
    return causes
