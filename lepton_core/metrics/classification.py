"""Binary and multi-class classification metrics, with bootstrap intervals and calibration error."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "binary_metrics",
    "bootstrap_interval",
    "expected_calibration_error",
    "ks_statistic",
    "multiclass_metrics",
]


def ks_statistic(y_true: ArrayLike, score: ArrayLike) -> float:
    """Kolmogorov-Smirnov distance between the score distributions of positives and negatives."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(y_true), np.asarray(score))
    return float(np.max(tpr - fpr))


def expected_calibration_error(y_true: ArrayLike, prob: ArrayLike, bins: int = 10) -> float:
    """ECE: the bin-weighted gap between mean predicted probability and observed frequency.

    ``prob`` is a vector of positive-class probabilities, or a (n, classes) matrix (top-label ECE).
    """
    y = np.asarray(y_true)
    p = np.asarray(prob, dtype=float)
    if p.ndim == 2:
        confidence, hit = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
    else:
        confidence, hit = p, y.astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            ece += mask.mean() * abs(hit[mask].mean() - confidence[mask].mean())
    return float(ece)


def binary_metrics(y_true: ArrayLike, prob: ArrayLike, threshold: float = 0.5) -> dict[str, float]:
    """ROC-AUC, Gini, KS, PR-AUC, Brier, log loss and precision/recall/F1/accuracy at ``threshold``."""
    from sklearn import metrics as skm

    y = np.asarray(y_true).astype(int)
    p = np.clip(np.asarray(prob, dtype=float), 1e-7, 1 - 1e-7)
    decision = (p >= threshold).astype(int)
    both_classes = len(np.unique(y)) == 2
    auc = float(skm.roc_auc_score(y, p)) if both_classes else float("nan")
    return {
        "roc_auc": auc,
        "gini": 2 * auc - 1,
        "ks": ks_statistic(y, p) if both_classes else float("nan"),
        "pr_auc": float(skm.average_precision_score(y, p)) if both_classes else float("nan"),
        "brier": float(skm.brier_score_loss(y, p)),
        "log_loss": float(skm.log_loss(y, p, labels=[0, 1])),
        "accuracy": float(skm.accuracy_score(y, decision)),
        "precision": float(skm.precision_score(y, decision, zero_division=0)),
        "recall": float(skm.recall_score(y, decision, zero_division=0)),
        "f1": float(skm.f1_score(y, decision, zero_division=0)),
        "threshold": float(threshold),
    }


def multiclass_metrics(y_true: ArrayLike, prob: ArrayLike) -> dict[str, float]:
    """Macro one-vs-rest ROC-AUC, accuracy, macro F1, log loss and calibration error of a (n, k) matrix."""
    from sklearn import metrics as skm

    y = np.asarray(y_true).astype(int)
    p = np.asarray(prob, dtype=float)
    k = p.shape[1]
    pred = p.argmax(axis=1)
    present = np.unique(y)
    if k == 2:
        auc = float(skm.roc_auc_score(y, p[:, 1])) if len(present) == 2 else float("nan")
    elif len(present) == k:
        auc = float(skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=list(range(k))))
    else:
        auc = float("nan")
    return {
        "roc_auc": auc,
        "accuracy": float(skm.accuracy_score(y, pred)),
        "f1_macro": float(skm.f1_score(y, pred, average="macro", labels=list(range(k)), zero_division=0)),
        "log_loss": float(skm.log_loss(y, np.clip(p, 1e-7, 1), labels=list(range(k)))),
        "ece": expected_calibration_error(y, p),
    }


def bootstrap_interval(
    y_true: ArrayLike,
    score: ArrayLike,
    metric: object,
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap (1 - alpha) interval of ``metric(y, score)``; resamples lacking a class are skipped."""
    y = np.asarray(y_true)
    s = np.asarray(score)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < len(np.unique(y)):
            continue
        values.append(metric(y[idx], s[idx]))  # type: ignore[operator]
    if not values:
        return float("nan"), float("nan")
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))
