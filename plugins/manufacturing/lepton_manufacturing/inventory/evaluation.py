"""Simulate each replenishment policy on the held-out days and score it: costs, fill rate, service level, stock-outs.

Contenders: ``model`` (the network's quantile forecasts -> order-up-to levels, :mod:`.policy`) and one per
baseline forecaster fed to the classical safety-stock policy (``moving_average`` is the textbook policy).
At every review day of the simulation period each forecasts from the history before that day only; the
network was trained on the days before the period. Metrics are totals over all SKUs at
``task.service_level``; the trade-off table and plot repeat the simulation at each of ``task.service_levels``.
``forecast_mase`` scores the daily forecasts behind each policy (the network's median) at the review days
whose horizon lies inside the data. ``inventory_simulation.csv`` in the run directory holds every day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.errors import ConfigError
from lepton_core.forecasting import forecast_metrics, forecast_windows
from lepton_core.report.figures import new_figure, save_figure
from lepton_manufacturing.inventory.policy import (
    SimulationResult,
    fit_correlation,
    network_lead_time_demand,
    point_lead_time_demand,
    simulate,
    summarise,
    z_value,
)

__all__ = ["METRIC_DIRECTIONS", "PolicySettings", "evaluate_inventory", "policy_correlation"]

METRIC_DIRECTIONS = {
    "total_cost": False, "holding_cost": False, "stockout_cost": False, "order_cost": False, "fill_rate": True,
    "cycle_service_level": True, "stockout_days": False, "stockout_units": False, "average_inventory": False,
    "forecast_mase": False,
}


@dataclass(frozen=True)
class PolicySettings:
    """The replenishment settings of ``cfg.task``."""

    service_level: float
    service_levels: tuple[float, ...]
    stockout: str
    safety_window: int
    trajectory_skus: int

    @classmethod
    def from_config(cls, task: Mapping[str, Any]) -> PolicySettings:
        """Read and check ``task.service_level``, ``service_levels``, ``stockout``, ``safety_window``."""
        level = float(task.get("service_level", 0.95))
        levels = tuple(sorted({float(v) for v in task.get("service_levels") or ()} | {level}))
        if not all(0.5 <= v < 1 for v in levels):
            raise ConfigError(f"task.service_level(s) {list(levels)} must lie in [0.5, 1)", "use e.g. 0.95")
        stockout = str(task.get("stockout", "backorder"))
        if stockout not in ("backorder", "lost_sales"):
            raise ConfigError(f"task.stockout={stockout!r} is not a rule", "use backorder or lost_sales")
        window = int(task.get("safety_window", 28))
        if window < 2:
            raise ConfigError(f"task.safety_window={window} is too short", "use 2 days or more (e.g. 28)")
        return cls(level, levels, stockout, window, int(task.get("trajectory_skus", 3)))


@dataclass(frozen=True)
class LeadTimeDemand:
    """One contender's daily forecasts and lead-time demand (mean, sigma) at every review row."""

    point: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray


def _cover(datamodule: Any, counts: Sequence[int]) -> np.ndarray:
    """Days each row's order must cover (lead time + review period), rows grouped by series."""
    lead = datamodule.parameters["lead_time"].to_numpy()
    return np.repeat(lead + datamodule.review_period, counts)


def policy_correlation(datamodule: Any, model: Any, service_level: float) -> float:
    """The network policy's ``rho``, fitted on the validation windows (evaluation hands it to the bundle)."""
    val = datamodule.val
    counts = [len(o) for o in datamodule.val_origins]
    cover = _cover(datamodule, counts)
    actual = (val.target.numpy() * (np.arange(datamodule.horizon)[None, :] < cover[:, None])).sum(1)
    starts = [datamodule.simulation_start(i) for i in range(len(counts))]
    rates = [max(float(np.mean(y[:s])), 1e-6) for y, s in zip(datamodule.series.values, starts)]
    levels = model.quantile_levels.tolist()
    quantiles = forecast_windows(model, val.inputs())
    return float(fit_correlation(quantiles, levels, cover, actual, np.repeat(rates, counts), service_level))


def _contenders(
    datamodule: Any, model: Any, baselines: Sequence[Any], settings: PolicySettings, rho: float | None
) -> dict[str, LeadTimeDemand]:
    origins = datamodule.review_origins()
    counts = [len(o) for o in origins]
    cover = _cover(datamodule, counts)
    histories = [y[: int(o)] for y, row in zip(datamodule.series.values, origins) for o in row]
    out = {}
    if model is not None:
        quantiles = forecast_windows(model, datamodule.windows(origins).inputs())
        levels = model.quantile_levels.tolist()
        mean, sigma = network_lead_time_demand(quantiles, levels, cover, rho)
        out["model"] = LeadTimeDemand(quantiles[..., levels.index(0.5)], mean, sigma)
    for baseline in baselines:
        point = np.asarray(baseline.predict(histories), dtype=float)
        out[baseline.name] = LeadTimeDemand(point, *point_lead_time_demand(point, histories, cover, settings.safety_window))
    return out


def _simulate_all(datamodule: Any, demand: LeadTimeDemand, level: float, stockout: str) -> list[SimulationResult]:
    origins = datamodule.review_origins()
    levels = np.split(demand.mean + z_value(level) * demand.sigma, np.cumsum([len(o) for o in origins])[:-1])
    results = []
    for i, (y, reviews) in enumerate(zip(datamodule.series.values, origins)):
        start = datamodule.simulation_start(i)
        params = datamodule.parameters.iloc[i]
        lead = int(params["lead_time"])
        opening = float(np.mean(y[max(0, start - 28) : start])) * (lead + datamodule.review_period)
        costs = {k: float(params[k]) for k in ("holding_cost", "stockout_cost", "order_cost")}
        results.append(
            simulate(y[start:], reviews - start, levels[i], lead, datamodule.review_period, opening, costs, stockout)
        )
    return results


def _forecast_mase(datamodule: Any, demand: LeadTimeDemand) -> float:
    """MASE of the daily forecasts at the review days whose whole horizon is inside the data."""
    rows, actual, histories = [], [], []
    index = 0
    for y, reviews in zip(datamodule.series.values, datamodule.review_origins()):
        for origin in reviews:
            if origin + datamodule.horizon <= len(y):
                rows.append(index)
                actual.append(y[origin : origin + datamodule.horizon])
                histories.append(y[:origin])
            index += 1
    if not rows:
        return float("nan")
    return forecast_metrics(np.stack(actual), demand.point[rows], histories, datamodule.series.season_length)[0]["mase"]


def evaluate_inventory(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Simulate every policy over the held-out days; metrics, trade-off across service levels, plots, tables."""
    settings = PolicySettings.from_config(ctx.cfg.task)
    rho = policy_correlation(datamodule, model, settings.service_level) if model is not None else None
    contenders = _contenders(datamodule, model, baselines, settings, rho)
    runs = {name: _simulate_all(datamodule, d, settings.service_level, settings.stockout) for name, d in contenders.items()}
    metrics = {
        name: {**summarise(results), "forecast_mase": _forecast_mase(datamodule, contenders[name])}
        for name, results in runs.items()
    }
    trade_off = {
        name: [summarise(_simulate_all(datamodule, d, level, settings.stockout)) for level in settings.service_levels]
        for name, d in contenders.items()
    }
    _write_simulation(ctx, datamodule, runs)
    figures = (
        _trajectories(ctx, datamodule, runs, settings.trajectory_skus),
        _cost_bars(ctx, metrics),
        _trade_off_plot(ctx, trade_off, settings),
    )
    tables = (_summary_table(metrics), _trade_off_table(trade_off, settings), _sku_table(datamodule, runs))
    return Evaluation(
        metrics=metrics,
        primary_metric="total_cost",
        greater_is_better=False,
        figures=figures,
        tables=tables,
        notes=(*_notes(datamodule, metrics, settings, rho), _cheapest_targets(trade_off, settings)),
        metric_directions=METRIC_DIRECTIONS,
        fitted={} if rho is None else {"correlation": rho},
    )


def _notes(
    datamodule: Any, metrics: Mapping[str, Mapping[str, float]], settings: PolicySettings, rho: float | None
) -> list[str]:
    notes = [
        (
            f"Periodic review every {datamodule.review_period} days, order-up-to level at the {settings.service_level:.0%} "
            f"quantile of lead-time demand; stock-outs are {settings.stockout.replace('_', ' ')}s; every policy starts "
            "from the same stock (the last 28 days' mean demand times lead time + review period)."
        ),
    ]
    if rho is not None:
        notes.append(
            f"The network's lead-time demand spread uses a daily-error correlation rho = {rho:.2f}, "
            "fitted on the validation windows (0: independent days, 1: one common error)."
        )
    if "model" in metrics:
        model = metrics["model"]["total_cost"]
        for name, scores in metrics.items():
            if name != "model":
                change = (model - scores["total_cost"]) / scores["total_cost"] if scores["total_cost"] else float("nan")
                verb = "lower" if change < 0 else "higher"
                notes.append(
                    f"model total cost {model:,.0f} is {abs(change):.1%} {verb} than {name} ({scores['total_cost']:,.0f}); "
                    f"fill rate {metrics['model']['fill_rate']:.1%} vs {scores['fill_rate']:.1%}."
                )
    if datamodule.defaulted:
        notes.append(f"{len(datamodule.defaulted)} SKUs have no parameters row and use data.defaults.")
    return notes


def _cheapest_targets(trade_off: Mapping[str, list[dict[str, float]]], settings: PolicySettings) -> str:
    best = {name: min(zip(rows, settings.service_levels), key=lambda pair: pair[0]["total_cost"]) for name, rows in trade_off.items()}
    parts = [f"{name} {row['total_cost']:,.0f} at {level:g}" for name, (row, level) in best.items()]
    return "Each policy at its own cheapest target service level (trade-off table): " + ", ".join(parts) + "."


def _write_simulation(ctx: RunContext, datamodule: Any, runs: Mapping[str, list[SimulationResult]]) -> None:
    from lepton_core.atomic import atomic_write_text

    frames = []
    for i, sku in enumerate(datamodule.series.ids):
        start = datamodule.simulation_start(i)
        dates = datamodule.series.timestamps(i)[start:]
        for name, results in runs.items():
            r = results[i]
            frames.append(pd.DataFrame({"sku": sku, "date": dates, "policy": name, "demand": r.demand,
                                        "on_hand": r.on_hand, "order": r.orders, "short": r.short}))
    atomic_write_text(ctx.run_dir / "inventory_simulation.csv", pd.concat(frames).to_csv(index=False))


def _trajectories(ctx: RunContext, datamodule: Any, runs: Mapping[str, list[SimulationResult]], count: int) -> Figure:
    ids = datamodule.series.ids
    picks = np.unique(np.linspace(0, len(ids) - 1, num=max(1, min(count, len(ids)))).astype(int))
    fig, _ = new_figure(10, 2.6 * len(picks))
    fig.clear()
    axes = fig.subplots(len(picks), 1, squeeze=False)[:, 0]
    for ax, i in zip(axes, picks):
        for (name, results), colour in zip(runs.items(), ("tab:blue", "tab:orange", "tab:green", "tab:purple")):
            r = results[i]
            days = np.arange(len(r.on_hand))
            ax.step(days, r.on_hand, where="post", color=colour, lw=1.2, label=f"{name} on hand")
            ordered = r.orders > 0
            ax.scatter(days[ordered], np.zeros(ordered.sum()), marker="^", color=colour, s=18)
            short = r.short > 0
            ax.scatter(days[short], r.on_hand[short], marker="x", color="red", s=14)
        ax.axhline(0, color="grey", lw=0.6)
        lead = int(datamodule.parameters["lead_time"].iloc[i])
        ax.set_title(f"SKU {ids[i]} (lead time {lead} days)", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("simulated day")
    return save_figure(
        fig, ctx, "inventory_trajectories", "Inventory trajectories",
        "End-of-day stock per policy (negative: backorders); triangles: orders placed; red crosses: days with a stock-out.",
    )


def _cost_bars(ctx: RunContext, metrics: Mapping[str, Mapping[str, float]]) -> Figure:
    fig, ax = new_figure(6, 3.8)
    names = list(metrics)
    bottom = np.zeros(len(names))
    for part, colour in (("holding_cost", "tab:blue"), ("stockout_cost", "tab:red"), ("order_cost", "tab:grey")):
        values = np.array([metrics[n][part] for n in names])
        ax.bar(names, values, bottom=bottom, color=colour, label=part.replace("_", " "))
        bottom += values
    ax.set(ylabel="cost over the simulated days", title="Cost breakdown per policy")
    ax.legend(fontsize=8)
    return save_figure(fig, ctx, "cost_breakdown", "Cost breakdown per policy", "Holding, stock-out and order cost summed over all SKUs.")


def _trade_off_plot(ctx: RunContext, trade_off: Mapping[str, list[dict[str, float]]], settings: PolicySettings) -> Figure:
    fig, ax = new_figure(6, 4)
    for name, rows in trade_off.items():
        fill = [r["fill_rate"] for r in rows]
        cost = [r["total_cost"] for r in rows]
        ax.plot(fill, cost, marker="o", label=name)
        for x, y, level in zip(fill, cost, settings.service_levels):
            ax.annotate(f"{level:g}", (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set(xlabel="fill rate achieved", ylabel="total cost", title="Service level vs cost")
    ax.legend(fontsize=8)
    return save_figure(
        fig, ctx, "service_cost_trade_off", "Service level vs cost",
        f"Each policy simulated at the target service levels {', '.join(f'{v:g}' for v in settings.service_levels)} (labels).",
    )


def _summary_table(metrics: Mapping[str, Mapping[str, float]]) -> Table:
    names = ("total_cost", "holding_cost", "stockout_cost", "order_cost", "fill_rate", "cycle_service_level",
             "stockout_days", "average_inventory", "forecast_mase")
    return Table(
        title="Policies on the simulated days",
        columns=("policy", *names),
        rows=tuple((name, *(round(float(m[k]), 4) for k in names)) for name, m in metrics.items()),
        caption="Totals over all SKUs; fill rate = share of demand served from stock; cycle service level = share of "
        "replenishment cycles without a stock-out.",
    )


def _trade_off_table(trade_off: Mapping[str, list[dict[str, float]]], settings: PolicySettings) -> Table:
    rows = []
    for level_index, level in enumerate(settings.service_levels):
        for name, results in trade_off.items():
            r = results[level_index]
            rows.append((level, name, round(r["fill_rate"], 4), round(r["cycle_service_level"], 4), round(r["total_cost"], 1)))
    return Table(
        title="Service level vs cost",
        columns=("target service level", "policy", "fill rate", "cycle service level", "total cost"),
        rows=tuple(rows),
        caption="The same simulation at each target; the target sets the quantile of lead-time demand ordered up to.",
    )


def _sku_table(datamodule: Any, runs: Mapping[str, list[SimulationResult]], rows: int = 12) -> Table:
    body = []
    for i, sku in enumerate(datamodule.series.ids[:rows]):
        costs = [round(r[i].holding_cost + r[i].stockout_cost + r[i].order_cost, 1) for r in runs.values()]
        body.append((sku, int(datamodule.parameters["lead_time"].iloc[i]), *costs))
    more = f" (first {rows} of {len(datamodule.series.ids)})" if len(datamodule.series.ids) > rows else ""
    return Table(
        title="Total cost per SKU",
        columns=("sku", "lead time", *runs),
        rows=tuple(body),
        caption=f"Per-SKU total cost of each policy{more}; inventory_simulation.csv has every day.",
    )
