"""Test evaluation of the customer task: churn and CLV of the held-out customers over the holdout window,
the sequence model against BG/NBD + Gamma-Gamma, and an RFM segmentation of every customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.report.figures import new_figure, save_figure
from lepton_core.report.plots import roc_plot
from lepton_retail.customers.features import SEGMENTS, rfm_scores, rfm_segments

__all__ = ["DIRECTIONS", "customer_metrics", "evaluate_customers", "model_predictions"]

DIRECTIONS = {
    "churn_roc_auc": True, "churn_pr_auc": True, "churn_brier": False, "clv_mae": False, "clv_rmse": False,
    "clv_spearman": True, "clv_top_decile_capture": True,
}


def top_share(predicted: np.ndarray, actual: np.ndarray, share: float) -> float:
    """Share of the actual total captured by the ``share`` of customers with the highest predictions."""
    count = max(round(share * len(actual)), 1)
    top = np.argsort(-predicted, kind="stable")[:count]
    total = actual.sum()
    return float(actual[top].sum() / total) if total > 0 else float("nan")


def customer_metrics(churn: np.ndarray, clv: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Churn ROC-AUC, PR-AUC (churners positive), Brier; CLV MAE, RMSE, Spearman, top-decile capture, total ratio."""
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score, roc_auc_score

    p_churn, value = predicted[:, 0], predicted[:, 1]
    both = len(np.unique(churn)) == 2
    return {
        "churn_roc_auc": float(roc_auc_score(churn, p_churn)) if both else float("nan"),
        "churn_pr_auc": float(average_precision_score(churn, p_churn)) if both else float("nan"),
        "churn_brier": float(np.mean((p_churn - churn) ** 2)),
        "clv_mae": float(np.abs(value - clv).mean()),
        "clv_rmse": float(np.sqrt(((value - clv) ** 2).mean())),
        "clv_spearman": float(spearmanr(value, clv)[0]) if np.std(value) > 0 and np.std(clv) > 0 else float("nan"),
        "clv_top_decile_capture": top_share(value, clv, 0.1),
        "clv_total_ratio": float(value.sum() / clv.sum()) if clv.sum() > 0 else float("nan"),
    }


def model_predictions(model: Any, datamodule: Any, chosen: np.ndarray) -> np.ndarray:
    """(n, 2) churn probability and expected spend of the network for the customers at ``chosen``."""
    model.eval()
    events, categories, statics, _, _ = datamodule.tensors(chosen)
    with torch.inference_mode():
        out = model(events.to(model.device), categories.to(model.device), statics.to(model.device))
    return out.cpu().numpy().astype(np.float64)


def evaluate_customers(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Churn ROC-AUC (primary) and CLV metrics of the test customers for the network and each baseline; RFM."""
    test = datamodule.test_index
    churn, clv = datamodule.churn[test], datamodule.clv[test]
    predictions: dict[str, np.ndarray] = {}
    if model is not None:
        predictions["model"] = model_predictions(model, datamodule, test)
    summary = datamodule.summary_of(test)
    for baseline in baselines:
        predictions[baseline.name] = baseline.predict(summary)
    metrics = {name: customer_metrics(churn, clv, p) for name, p in predictions.items()}
    figures = [
        roc_plot(ctx, churn, {name: p[:, 0] for name, p in predictions.items()}, name="churn_roc"),
        _gains_plot(ctx, clv, predictions),
        _decile_plot(ctx, clv, predictions),
    ]
    segment_table = _rfm_table(datamodule)
    figures.append(_segment_plot(ctx, segment_table))
    period = datamodule.summary()["calibration period"].split(" .. ")[1]
    notes = [
        (
            f"Calibration period up to {period}; the targets are the next {datamodule.holdout_days} days: churn = "
            f"no purchase in them, CLV = the spend in them. {len(test)} test customers, never seen in training; "
            "BG/NBD + Gamma-Gamma is fitted on the training customers' calibration period only."
        ),
    ]
    notes += [f"{b.name} parameters: " + ", ".join(f"{k}={v:.3g}" for k, v in b.parameters().items()) for b in baselines if hasattr(b, "parameters")]
    return Evaluation(
        metrics=metrics,
        primary_metric="churn_roc_auc",
        greater_is_better=True,
        figures=tuple(figures),
        tables=(_decile_table(clv, predictions), segment_table),
        notes=tuple(notes),
        metric_directions=DIRECTIONS,
    )


def _gains_plot(ctx: RunContext, clv: np.ndarray, predictions: Mapping[str, np.ndarray]) -> Figure:
    fig, ax = new_figure(5, 4.2)
    shares = np.linspace(0, 1, 51)
    for name, p in predictions.items():
        ax.plot(shares, [top_share(p[:, 1], clv, s) if s > 0 else 0.0 for s in shares], label=name)
    ax.plot(shares, [top_share(clv, clv, s) if s > 0 else 0.0 for s in shares], ":", color="black", lw=0.8, label="perfect")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=0.8)
    ax.set(xlabel="share of customers targeted (highest predicted CLV first)", ylabel="share of holdout spend", title="CLV gains")
    ax.legend(loc="lower right")
    return save_figure(fig, ctx, "clv_gains", "CLV gains curve", "Share of the test customers' holdout spend captured by targeting the top predicted customers.")


def _deciles(predicted: np.ndarray) -> np.ndarray:
    ranks = np.argsort(np.argsort(predicted, kind="stable"), kind="stable")
    return (ranks * 10 // len(predicted)).astype(int)


def _decile_plot(ctx: RunContext, clv: np.ndarray, predictions: Mapping[str, np.ndarray]) -> Figure:
    fig, ax = new_figure(5.5, 4.2)
    for name, p in predictions.items():
        decile = _deciles(p[:, 1])
        predicted = [p[decile == d, 1].mean() for d in range(10)]
        actual = [clv[decile == d].mean() for d in range(10)]
        line = ax.plot(range(1, 11), actual, marker="o", ms=3, label=f"{name}: actual")[0]
        ax.plot(range(1, 11), predicted, "--", color=line.get_color(), label=f"{name}: predicted")
    ax.set(xlabel="decile of predicted CLV (10 = highest)", ylabel="mean holdout spend", title="CLV calibration by decile")
    ax.legend(fontsize=7)
    return save_figure(fig, ctx, "clv_deciles", "CLV calibration by decile", "Mean predicted and actual holdout spend per decile of each contender's prediction.")


def _decile_table(clv: np.ndarray, predictions: Mapping[str, np.ndarray]) -> Table:
    rows = []
    for d in range(9, -1, -1):
        row: list[Any] = [d + 1]
        for p in predictions.values():
            decile = _deciles(p[:, 1])
            row += [round(float(p[decile == d, 1].mean()), 2), round(float(clv[decile == d].mean()), 2)]
        rows.append(tuple(row))
    columns = ("decile", *(f"{name} {what}" for name in predictions for what in ("predicted", "actual")))
    return Table("CLV by decile of prediction", columns, tuple(rows), "Test customers, deciles of each contender's own predicted CLV (10 = highest).")


def _rfm_table(datamodule: Any) -> Table:
    summary = datamodule.arrays.summary
    scores = rfm_scores(summary, datamodule.rfm_edges)
    frame = pd.DataFrame({"segment": rfm_segments(scores), "recency": summary["recency_days"], "purchases": summary["purchases"],
                          "mean_amount": summary["mean_amount"], "churn": datamodule.churn, "clv": datamodule.clv})
    total = frame["clv"].sum()
    rows = []
    for name in SEGMENTS:
        part = frame[frame["segment"] == name]
        if part.empty:
            continue
        rows.append((
            name, len(part), round(len(part) / len(frame), 3), round(float(part["recency"].mean()), 1),
            round(float(part["purchases"].mean()), 1), round(float(part["mean_amount"].mean()), 2),
            round(float(part["churn"].mean()), 3), round(float(part["clv"].mean()), 2),
            round(float(part["clv"].sum() / total), 3) if total > 0 else float("nan"),
        ))
    return Table(
        "RFM segments",
        ("segment", "customers", "share", "mean recency (days)", "mean purchases", "mean spend", "churn rate", "mean holdout spend", "share of holdout spend"),
        tuple(rows),
        "Every customer, scored 1-5 on recency, frequency and spend by the training customers' quintiles at the cut-off; "
        "segments from the R x F grid. Churn and holdout spend are what happened next.",
    )


def _segment_plot(ctx: RunContext, table: Table) -> Figure:
    fig, ax = new_figure(6.5, 4.0)
    names = [row[0] for row in table.rows]
    y = np.arange(len(names))
    ax.barh(y - 0.2, [row[2] for row in table.rows], 0.4, label="share of customers")
    ax.barh(y + 0.2, [row[8] for row in table.rows], 0.4, label="share of holdout spend")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xlabel="share", title="RFM segments: size and future value")
    ax.legend(loc="lower right")
    return save_figure(fig, ctx, "rfm_segments", "RFM segments", "Share of customers and of the holdout spend per RFM segment.")
