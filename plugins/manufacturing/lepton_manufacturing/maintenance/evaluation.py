"""RUL metrics (RMSE, MAE, PHM08 score) and the report figures of the predictive-maintenance task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.data.inference import predict_loader
from lepton_core.metrics.regression import regression_metrics
from lepton_core.report.figures import new_figure, save_figure

__all__ = ["evaluate_maintenance", "phm08_score", "rul_metrics"]


def phm08_score(rul_true: ArrayLike, rul_pred: ArrayLike) -> float:
    """The PHM08 challenge score: sum of exp(-d/13)-1 for early and exp(d/10)-1 for late predictions, d = pred - true.

    Late predictions (d > 0) are penalised more than early ones: a missed failure costs more than an early repair.
    """
    d = np.asarray(rul_pred, dtype=float) - np.asarray(rul_true, dtype=float)
    return float(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0)).sum())


def rul_metrics(rul_true: ArrayLike, rul_pred: ArrayLike) -> dict[str, float]:
    """RMSE, MAE, R² and the PHM08 score (total and per scored window)."""
    base = regression_metrics(rul_true, rul_pred)
    score = phm08_score(rul_true, rul_pred)
    return {
        "rmse": base["rmse"],
        "mae": base["mae"],
        "r2": base["r2"],
        "phm08_score": score,
        "phm08_per_window": score / max(1, len(np.asarray(rul_true))),
    }


def evaluate_maintenance(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Score the network and the baselines on the test windows; write predictions and figures."""
    import pandas as pd

    split = datamodule.splits["test"]
    x, y = datamodule.tensors["test"]
    predictions = {"model": predict_loader(model, datamodule.test_dataloader()).numpy()}
    for baseline in baselines:
        predictions[baseline.name] = np.asarray(baseline.predict(x.numpy()))
    truth = y.numpy()
    metrics = {name: rul_metrics(truth, pred) for name, pred in predictions.items()}
    table = pd.DataFrame({"unit": split.units, "rul_true": truth, **{f"rul_{k}": v for k, v in predictions.items()}})
    table.to_csv(ctx.run_dir / "test_predictions.csv", index=False)
    figures = (_scatter(ctx, truth, predictions), _sorted_units(ctx, truth, predictions, split.units))
    notes = [f"test scoring: {datamodule.test_mode}; targets capped at {datamodule.rul_cap:g} cycles"]
    notes += datamodule.notes
    late = float(np.mean(predictions["model"] > truth + 10))
    notes.append(f"model predicts more than 10 cycles too late on {late:.0%} of test windows (PHM08 penalises these most)")
    return Evaluation(
        metrics=metrics,
        primary_metric="rmse",
        greater_is_better=False,
        figures=figures,
        tables=(_error_bands(truth, predictions),),
        notes=tuple(notes),
    )


def _scatter(ctx: RunContext, truth: np.ndarray, predictions: Mapping[str, np.ndarray]) -> Figure:
    fig, ax = new_figure(5, 4.5)
    for name, pred in predictions.items():
        ax.scatter(truth, pred, s=6, alpha=0.5, label=name)
    top = float(max(truth.max(), *(p.max() for p in predictions.values())))
    ax.plot([0, top], [0, top], "--", color="grey", lw=0.8)
    ax.set(xlabel="true RUL (cycles)", ylabel="predicted RUL (cycles)", title="Predicted vs true RUL")
    ax.legend(loc="upper left")
    return save_figure(fig, ctx, "rul_scatter", "Predicted vs true RUL", "Test windows; dashed line = perfect.")


def _sorted_units(ctx: RunContext, truth: np.ndarray, predictions: Mapping[str, np.ndarray], units: np.ndarray) -> Figure:
    order = np.argsort(truth, kind="stable")
    if len(order) > 400:
        order = order[np.linspace(0, len(order) - 1, 400).astype(int)]
    fig, ax = new_figure(7, 3.8)
    ax.plot(truth[order], color="black", lw=1.5, label="true")
    for name, pred in predictions.items():
        ax.plot(pred[order], lw=0.8, alpha=0.8, label=name)
    ax.set(xlabel="test windows sorted by true RUL", ylabel="RUL (cycles)", title="RUL per test window")
    ax.legend(loc="upper left")
    return save_figure(fig, ctx, "rul_sorted", "RUL per test window", "Sorted by true RUL; late = above the black line.")


def _error_bands(truth: np.ndarray, predictions: Mapping[str, np.ndarray]) -> Table:
    bands = [(0, 25), (25, 50), (50, 100), (100, float("inf"))]
    rows = []
    for low, high in bands:
        mask = (truth >= low) & (truth < high)
        if not mask.any():
            continue
        label = f"{low}-{high:g}" if np.isfinite(high) else f">= {low}"
        rmse = [f"{np.sqrt(np.mean((p[mask] - truth[mask]) ** 2)):.1f}" for p in predictions.values()]
        rows.append((label, int(mask.sum()), *rmse))
    return Table(
        title="RMSE by true-RUL band",
        columns=("true RUL", "windows", *(f"rmse {n}" for n in predictions)),
        rows=tuple(rows),
        caption="Near failure (low RUL) is where errors matter most.",
    )
