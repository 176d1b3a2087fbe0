"""eta evaluation: MAE/RMSE/MAPE of P50, P90 coverage and pinball losses for the network and both baselines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.data.inference import predict_loader
from lepton_core.metrics.regression import interval_coverage, pinball_loss, regression_metrics
from lepton_core.report.figures import new_figure, save_figure
from lepton_core.report.plots import p50_p90_scatter

QUALITY_MARGIN = 0.10


def quantile_metrics(y: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict[str, float]:
    """Point metrics of P50, coverage of P90 (share of deliveries at or under it) and pinball losses."""
    return {
        **regression_metrics(y, p50),
        "p90_coverage": interval_coverage(y, None, p90),
        "pinball_p50": pinball_loss(y, p50, 0.5),
        "pinball_p90": pinball_loss(y, p90, 0.9),
    }


def quality_notes(metrics: dict[str, dict[str, float]]) -> list[str]:
    """Say whether the network beats the linear baseline and is within 10% of gradient boosting's MAE."""
    notes = []
    model = metrics["model"]["mae"]
    if "linear_distance" in metrics:
        linear = metrics["linear_distance"]["mae"]
        verdict = "beats" if model < linear else "does NOT beat"
        notes.append(f"The network {verdict} the linear distance baseline (MAE {model:.2f} vs {linear:.2f}).")
    if "gradient_boosting" in metrics:
        boosting = metrics["gradient_boosting"]["mae"]
        gap = model / boosting - 1.0
        within = "within" if gap <= QUALITY_MARGIN else "NOT within"
        notes.append(
            f"The network's MAE is {gap:+.1%} relative to gradient boosting ({model:.2f} vs {boosting:.2f}): "
            f"{within} the 10% quality target."
        )
    coverage = metrics["model"]["p90_coverage"]
    notes.append(f"P90 coverage {coverage:.1%} (target 90%): the share of test deliveries at or under their P90.")
    return notes


def _mae_by_distance(ctx: RunContext, distance: np.ndarray, y: np.ndarray, predictions: dict[str, np.ndarray]) -> Figure:
    edges = np.unique(np.quantile(distance[np.isfinite(distance)], np.linspace(0, 1, 7)))
    bucket = np.clip(np.digitize(distance, edges[1:-1]), 0, len(edges) - 2)
    fig, ax = new_figure(6.0, 4.0)
    width = 0.8 / len(predictions)
    for k, (name, p50) in enumerate(predictions.items()):
        mae = [np.abs(p50 - y)[bucket == b].mean() if (bucket == b).any() else np.nan for b in range(len(edges) - 1)]
        ax.bar(np.arange(len(mae)) + k * width, mae, width=width, label=name)
    ax.set_xticks(np.arange(len(edges) - 1) + 0.4 - width / 2)
    ax.set_xticklabels([f"{a:.1f}-{b:.1f}" for a, b in zip(edges[:-1], edges[1:])], fontsize=7)
    ax.set_xlabel("distance (km)")
    ax.set_ylabel("MAE of P50")
    ax.legend(fontsize=8)
    return save_figure(fig, ctx, "eta_mae_by_distance", "Error by distance", "Test MAE per distance sextile.")


def evaluate_eta(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score network and baselines on the test split."""
    import pandas as pd

    y = datamodule.targets["test"].astype(float)
    outputs = predict_loader(model, datamodule.loader("test"), forward=lambda m, b: m(b[0], b[1])).numpy()
    predictions = {"model": (outputs[:, 0].astype(float), outputs[:, 1].astype(float))}
    for baseline in baselines:
        predictions[baseline.name] = baseline.predict((datamodule, "test"))
    metrics = {name: quantile_metrics(y, p50, p90) for name, (p50, p90) in predictions.items()}
    distance = pd.to_numeric(datamodule.frames["test"][datamodule.distance_feature], errors="coerce").to_numpy(float)
    figures = (
        p50_p90_scatter(ctx, y, *predictions["model"], "eta_actual_vs_p50", "deliveries", "minutes"),
        _mae_by_distance(ctx, distance, y, {name: p[0] for name, p in predictions.items()}),
    )
    coverage = Table(
        "P90 promise kept", ("contender", "P90 coverage", "mean P90 - P50 (min)"),
        tuple((name, round(metrics[name]["p90_coverage"], 3), round(float(np.mean(p90 - p50)), 2))
              for name, (p50, p90) in predictions.items()),
        "A calibrated P90 covers about 90% of deliveries; a wider band covers more but promises less.",
    )
    return Evaluation(
        metrics=metrics, primary_metric="mae", greater_is_better=False,
        metric_directions={"pinball_p50": False, "pinball_p90": False}, figures=figures, tables=(coverage,),
        notes=tuple(quality_notes(metrics)),
    )
