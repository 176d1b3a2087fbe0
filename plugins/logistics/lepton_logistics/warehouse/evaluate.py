"""warehouse evaluation and export: every slotting policy x {OR-Tools, S-shape} on the held-out future orders.

``model`` is velocity slotting on the network's forecast, routed by OR-Tools (what the bundle deploys); every
other contender is ``<policy>_<router>``. Forecast accuracy (MAE, MASE, WAPE of each policy's velocity against
the test period's actual picks per SKU) sits beside the pick metrics of the policies that forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, Export, RunContext, Table
from lepton_logistics.warehouse.picking import ROUTERS, PickSettings, order_seconds, pick_seconds, route
from lepton_logistics.warehouse.plots import distance_distributions, example_routes, velocity_heatmaps
from lepton_logistics.warehouse.slotting import Slotting, velocity_slotting

PRIMARY = "pick_time_per_order_s"
MAX_EXAMPLE_SKUS = 4


def forecast_velocity(model: Any, datamodule: Any, origin: int) -> np.ndarray:
    """The network's expected picks per SKU over the horizon starting at ``origin``."""
    import torch

    model.eval()
    with torch.inference_mode():
        return model(datamodule.history_inputs(origin)).double().numpy()


def forecast_metrics(velocity: np.ndarray, actual: np.ndarray, history: np.ndarray, horizon: int) -> dict[str, float]:
    """MAE, MASE (scaled by the history's mean absolute change of horizon sums, over all SKUs) and WAPE."""
    error = np.abs(velocity - actual)
    sums = np.lib.stride_tricks.sliding_window_view(history, horizon, axis=0).sum(axis=-1)
    scale = float(np.abs(sums[horizon:] - sums[:-horizon]).mean()) if len(sums) > horizon else float("nan")
    return {"forecast_mae": float(error.mean()), "forecast_mase": float(error.mean() / scale) if scale else float("nan"),
            "forecast_wape": float(error.sum() / max(actual.sum(), 1e-9))}


def score_orders(datamodule: Any, slotting: Slotting, router: str, settings: PickSettings,
                 orders: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance (m) and pick time (s) of every order under a slotting and a router."""
    layout = datamodule.layout
    index = {sku: i for i, sku in enumerate(datamodule.skus)}
    distance, seconds = np.empty(len(orders)), np.empty(len(orders))
    for k, lines in enumerate(orders):
        slots = slotting.slot_of_sku[[index[s] for s in lines["sku"]]]
        walked = route(layout, slots, router, settings).distance_m
        distance[k] = walked
        seconds[k] = order_seconds(walked, pick_seconds(layout, slots, lines["qty"].to_numpy(), settings), settings)
    return distance, seconds


def contender(policy: str, router: str) -> str:
    """Metric key of a (policy, router) pair: ``model`` for the deployed forecast + OR-Tools."""
    return "model" if (policy, router) == ("forecast", "ortools") else f"{policy}_{router}"


def evaluate_warehouse(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Slot by each policy, route the test orders both ways, and compare pick time, distance and forecasts."""
    from rich.progress import track

    settings = PickSettings.from_mapping(ctx.cfg.task)
    layout, origin = datamodule.layout, datamodule.test_origin
    ranked = layout.ranked_slots(settings.speed_mps)
    velocity = forecast_velocity(model, datamodule, origin)
    actual = datamodule.target(origin)
    slottings = {"forecast": Slotting("forecast", velocity_slotting(velocity, ranked), velocity)}
    for baseline in baselines:
        slottings[baseline.name] = baseline.predict((datamodule, ranked))
    oracle = Slotting("oracle", velocity_slotting(actual, ranked), actual)
    orders = datamodule.test_orders()
    scored: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    pairs = [(p, r) for p in [*slottings, "oracle"] for r in ROUTERS]
    for policy, router in track(pairs, description="routing test orders", transient=True):
        scored[policy, router] = score_orders(datamodule, slottings.get(policy, oracle), router, settings, orders)

    history = datamodule.history_counts()
    metrics: dict[str, dict[str, float]] = {}
    for (policy, router), (distance, seconds) in scored.items():
        if policy == "oracle":
            continue
        entry = {PRIMARY: float(seconds.mean()), "pick_distance_per_order_m": float(distance.mean())}
        if slottings[policy].velocity is not None:
            entry.update(forecast_metrics(slottings[policy].velocity, actual, history, datamodule.horizon_periods))
        metrics[contender(policy, router)] = entry
    grid = Table(
        "Pick time and distance per order: slotting policy x routing",
        ("slotting", *(f"{r} time (s)" for r in ROUTERS), *(f"{r} distance (m)" for r in ROUTERS)),
        tuple((p, *(round(float(scored[p, r][1].mean()), 1) for r in ROUTERS),
               *(round(float(scored[p, r][0].mean()), 1) for r in ROUTERS)) for p in [*slottings, "oracle"]),
        f"{len(orders)} held-out orders; 'oracle' slots by the test period's actual picks (a bound, not a contender).",
    )
    forecasts = Table(
        "Velocity forecast vs the test period's actual picks per SKU",
        ("velocity", "MAE (picks)", "MASE", "WAPE"),
        tuple((p, *(round(v, 3) for v in forecast_metrics(s.velocity, actual, history,
                                                           datamodule.horizon_periods).values()))
              for p, s in slottings.items() if s.velocity is not None),
    )
    best = min(metrics, key=lambda k: metrics[k][PRIMARY])
    notes = (
        (f"Pick time per order = {settings.order_setup_s:g} s setup + distance / {settings.speed_mps:g} m/s + "
        f"{settings.pick_time_s:g} s per line + {settings.unit_pick_s:g} s per extra unit + the level's extra time "
        f"({', '.join(f'{s:g}' for s in layout.level_extra_s)} s by level)."),
        (f"OR-Tools: cheapest-arc start + guided local search, stopped after {settings.solution_limit} solutions "
        "(deterministic: no time limit)."),
        (f"Fastest combination on the test orders: {best} ({metrics[best][PRIMARY]:.1f} s per order); OR-Tools on "
        f"the oracle slotting: {scored['oracle', 'ortools'][1].mean():.1f} s."),
    )
    figures = (
        velocity_heatmaps(ctx, layout, {p: s.slot_of_sku for p, s in slottings.items()}, actual),
        distance_distributions(ctx, {contender(p, r): d for (p, r), (d, _) in scored.items() if p != "oracle"}),
        example_routes(ctx, layout, datamodule, slottings["forecast"], orders, settings),
    )
    return Evaluation(
        metrics=metrics, primary_metric=PRIMARY, greater_is_better=False,
        metric_directions=dict.fromkeys(("pick_distance_per_order_m", "forecast_mae", "forecast_mase", "forecast_wape"),
                                        False),
        figures=figures, tables=(grid, forecasts), notes=notes,
    )


def export_warehouse(ctx: RunContext, datamodule: Any, model: Any) -> Export:
    """The recommended slotting (the network's forecast from the latest periods, test period included), the layout
    and the pick settings; the predictor routes pick lists, so the bundle carries no weights."""
    settings = PickSettings.from_mapping(ctx.cfg.task)
    layout = datamodule.layout
    velocity = forecast_velocity(model, datamodule, len(datamodule.counts))
    slots = velocity_slotting(velocity, layout.ranked_slots(settings.speed_mps))
    state = {
        "layout": layout.to_state(), "settings": settings.to_state(), "skus": list(datamodule.skus),
        "slot_of_sku": slots.tolist(), "velocity": [round(float(v), 3) for v in velocity],
        "horizon_days": datamodule.period_days * datamodule.horizon_periods,
    }
    skus = list(datamodule.skus)
    picks = [skus[i] for i in np.linspace(0, len(skus) - 1, min(MAX_EXAMPLE_SKUS, len(skus))).astype(int)]
    example = {"order_id": "example", "lines": [{"sku": s, "qty": 1 + k % 2} for k, s in enumerate(picks)]}
    return Export(module=None, state=state, input_example=[example])
