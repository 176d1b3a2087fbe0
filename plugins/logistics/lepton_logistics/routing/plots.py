"""Route maps for the report: one panel per planner, a line per vehicle, dropped orders marked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lepton_core.hooks.specs import Figure, RunContext
from lepton_core.report.figures import new_figure, save_figure
from lepton_logistics.routing.problem import RoutingProblem


def route_map(ctx: RunContext, problem: RoutingProblem, results: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Plot each planner's routes side by side (longitude on x, latitude on y)."""
    fig, axes = new_figure(5.2 * len(results), 4.8)
    fig.clear()
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    where = {o.id: (o.lon, o.lat) for o in problem.orders}
    for axis, (name, result) in zip(axes, results.items()):
        for route in result["routes"]:
            path = [(problem.depot.lon, problem.depot.lat), *(where[s["order"]] for s in route["stops"]),
                    (problem.depot.lon, problem.depot.lat)]
            xs, ys = zip(*path)
            axis.plot(xs, ys, "-o", markersize=3, linewidth=1.2, label=route["vehicle"])
        dropped = [where[d["order"]] for d in result["dropped"]]
        if dropped:
            xs, ys = zip(*dropped)
            axis.scatter(xs, ys, marker="x", color="red", s=40, label="dropped", zorder=3)
        axis.scatter([problem.depot.lon], [problem.depot.lat], marker="*", color="black", s=160, label="depot", zorder=4)
        kpis = result["kpis"]
        axis.set_title(f"{name}: {kpis['total_distance_km']:.1f} km, {int(kpis['vehicles_used'])} vehicles, "
                       f"{int(kpis['dropped_orders'])} dropped", fontsize=9)
        axis.set_xlabel("longitude")
        axis.set_ylabel("latitude")
        axis.legend(fontsize=6, loc="best")
    return save_figure(fig, ctx, "routes", "Routes", "Each line is one vehicle's tour from and back to the depot (star).")
