"""order_tracking evaluation and export: hours-to-delivery MAE (primary), P10-P90 coverage, MAE by current status.

``evaluate_order_tracking`` and ``export_order_tracking`` have the hook signatures of the task YAML's
``task.evaluate`` / ``task.export``; the plugin's hooks only dispatch to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, Export, Figure, RunContext, Table
from lepton_core.data.inference import predict_loader
from lepton_core.metrics.regression import interval_coverage, pinball_loss, regression_metrics
from lepton_core.report.figures import new_figure, save_figure
from lepton_core.report.plots import p50_p90_scatter
from lepton_logistics.tracking.events import STATUSES

Quantiles = tuple[np.ndarray, np.ndarray, np.ndarray]


def quantile_metrics(y: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict[str, float]:
    """MAE/RMSE/R² of P50 in hours, coverage of P90 and of the P10-P90 band, pinball losses."""
    point = regression_metrics(y, p50)
    return {
        "mae": point["mae"], "rmse": point["rmse"], "r2": point["r2"],
        "p90_coverage": interval_coverage(y, None, p90),
        "p10_p90_coverage": interval_coverage(y, p10, p90),
        "pinball_p10": pinball_loss(y, p10, 0.1), "pinball_p50": pinball_loss(y, p50, 0.5),
        "pinball_p90": pinball_loss(y, p90, 0.9),
    }


def verdict(metrics: dict[str, dict[str, float]]) -> list[str]:
    """Plain notes: does the network beat each baseline on MAE, and is its P90 calibrated."""
    model = metrics["model"]["mae"]
    notes = []
    for name, scores in metrics.items():
        if name == "model":
            continue
        gap = model / scores["mae"] - 1.0
        word = "beats" if model < scores["mae"] else "does NOT beat"
        notes.append(f"The sequence model {word} {name} on MAE ({model:.2f} h vs {scores['mae']:.2f} h, {gap:+.1%}).")
    coverage = metrics["model"]["p90_coverage"]
    notes.append(f"Its P90 covers {coverage:.1%} of test prefixes (target 90%); the P10-P90 band "
                 f"{metrics['model']['p10_p90_coverage']:.1%} (target 80%).")
    return notes


def _by_status(ctx: RunContext, status: np.ndarray, y: np.ndarray, p50s: dict[str, np.ndarray]) -> tuple[Figure, Table]:
    present = [c for c in range(1, len(STATUSES) + 1) if (status == c).any()]
    mae = {name: [float(np.abs(p - y)[status == c].mean()) for c in present] for name, p in p50s.items()}
    fig, ax = new_figure(7.0, 4.0)
    width = 0.8 / len(p50s)
    for k, (name, values) in enumerate(mae.items()):
        ax.bar(np.arange(len(present)) + k * width, values, width=width, label=name)
    ax.set_xticks(np.arange(len(present)) + 0.4 - width / 2)
    ax.set_xticklabels([STATUSES[c - 1] for c in present], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("MAE of P50 (hours)")
    ax.legend(fontsize=8)
    figure = save_figure(fig, ctx, "order_tracking_mae_by_status", "Error by current status",
                         "Test MAE of the P50 remaining time, by the order's status at 'now'.")
    rows = tuple((STATUSES[c - 1], int((status == c).sum()), *(round(mae[n][i], 2) for n in p50s)) for i, c in enumerate(present))
    table = Table("MAE by current status (hours)", ("status", "prefixes", *p50s), rows,
                  "Each test prefix is a live order seen at one of its status events or between two of them.")
    return figure, table


def evaluate_order_tracking(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score the sequence model and the baselines on the test orders' prefixes."""
    y = datamodule.targets["test"].astype(float)
    outputs = predict_loader(model, datamodule.loader("test"), forward=lambda m, b: m(*b[:-1])).numpy().astype(float)
    predictions: dict[str, Quantiles] = {"model": (outputs[:, 0], outputs[:, 1], outputs[:, 2])}
    for baseline in baselines:
        predictions[baseline.name] = baseline.predict((datamodule, "test"))
    metrics = {name: quantile_metrics(y, *q) for name, q in predictions.items()}
    by_status, table = _by_status(ctx, datamodule.prefixes["test"].current, y, {n: q[1] for n, q in predictions.items()})
    return Evaluation(
        metrics=metrics, primary_metric="mae", greater_is_better=False,
        metric_directions={"pinball_p10": False, "pinball_p50": False, "pinball_p90": False},
        figures=(by_status, p50_p90_scatter(ctx, y, predictions["model"][1], predictions["model"][2], "order_tracking_actual_vs_p50", "orders", "hours to delivery")), tables=(table,),
        notes=tuple(verdict(metrics)),
    )


def export_order_tracking(datamodule: Any, model: Any) -> Export:
    """The network, the column names and order-column encoding (plain JSON), two made-up live orders as the example."""
    return Export(module=model, state=datamodule.export_state(), input_example=datamodule.example_orders())
