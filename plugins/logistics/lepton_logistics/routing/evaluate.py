"""route_optimization evaluation: solve, run the baselines, compare KPIs, write routes.json, plot and explain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from lepton_core import Evaluation, Export, RunContext, Table
from lepton_core.atomic import atomic_write_text
from lepton_logistics.routing.planner import RoutingSettings, describe_plan, plan_routes, travel_matrices
from lepton_logistics.routing.plots import route_map


def settings_from_config(task_cfg: Any) -> RoutingSettings:
    """RoutingSettings from the ``task`` section (keys it does not set keep their defaults)."""
    names = {f.name for f in fields(RoutingSettings)}
    values = {k: task_cfg[k] for k in names if task_cfg.get(k) is not None}
    if values.get("eta_bundle"):
        values["eta_bundle"] = str(Path(str(values["eta_bundle"])).expanduser().resolve())
    return RoutingSettings(**values)


def export_routing(ctx: RunContext, datamodule: Any) -> Export:
    """A routing bundle carries the planning settings and no weights (nothing is trained)."""
    return Export(module=None, state=settings_from_config(ctx.cfg.task).to_state(), input_example=datamodule.input_example())


def evaluate_routing(ctx: RunContext, datamodule: Any, baselines: Sequence[Any]) -> Evaluation:
    """Plan with OR-Tools and each baseline on the same travel matrices; KPIs per planner."""
    settings = settings_from_config(ctx.cfg.task)
    problem = datamodule.problem
    travel = travel_matrices(problem, settings)
    results = {"model": plan_routes(problem, settings, travel, "ortools")}
    for baseline in baselines:
        results[baseline.name] = describe_plan(problem, travel, baseline.predict((problem, travel)), settings)
    atomic_write_text(ctx.run_dir / "routes.json", json.dumps(results, indent=1))

    solved = results["model"]
    route_rows = tuple(
        (r["vehicle"], len(r["stops"]), f"{r['load']:g}/{r['capacity']:g}", round(r["distance_km"], 1),
         f"{r['start_min']:.0f}-{r['end_min']:.0f}", " ".join(s["order"] for s in r["stops"]))
        for r in solved["routes"]
    )
    tables = [Table("Solver routes", ("vehicle", "stops", "load", "km", "time (min)", "orders"), route_rows,
                    "Full plan with arrival times: routes.json in the run directory.")]
    if solved["infeasibility"]:
        tables.append(Table(
            "Why not every order can be served", ("constraint", "orders", "detail"),
            tuple((c["constraint"], len(c["orders"]), c["detail"]) for c in solved["infeasibility"]),
        ))
    notes = [
        f"Travel times: {travel.source}, road factor {settings.road_factor:g}; solver time limit "
        f"{min(settings.time_limit_s, settings.max_time_limit_s):g} s (OR-Tools, guided local search).",
        "plan_cost = km driven + drop penalty (" f"{settings.drop_penalty_km:g} per dropped order) + "
        f"vehicle cost ({settings.vehicle_cost_km:g} per vehicle used); on_time_share counts on-time "
        "deliveries over all orders.",
    ]
    if solved["feasible"]:
        notes.append("Every order is served within its window and every vehicle within its capacity.")
    else:
        notes.append("No plan serves every order: " + "; ".join(c["detail"] for c in solved["infeasibility"]) + ".")
    return Evaluation(
        metrics={name: r["kpis"] for name, r in results.items()},
        primary_metric="plan_cost",
        greater_is_better=False,
        # solve_time_s has no direction: the solver uses its time limit by design
        metric_directions={
            **dict.fromkeys(("total_distance_km", "total_time_min", "driving_time_min", "vehicles_used"), False),
            **dict.fromkeys(("dropped_orders", "drop_penalty"), False),
            **dict.fromkeys(("served_orders", "on_time_share"), True),
        },
        figures=(route_map(ctx, problem, {("ortools" if k == "model" else k): v for k, v in results.items()}),),
        tables=tuple(tables),
        notes=tuple(notes),
    )
