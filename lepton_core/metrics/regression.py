"""Regression and quantile metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["interval_coverage", "pinball_loss", "regression_metrics"]


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """MAE, RMSE, MAPE (over non-zero targets, in %) and R²."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    err = p - y
    nonzero = np.abs(y) > 1e-9
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "mape": float(np.abs(err[nonzero] / y[nonzero]).mean() * 100) if nonzero.any() else float("nan"),
        "r2": 1.0 - float((err**2).sum()) / ss_tot if ss_tot > 0 else float("nan"),
    }


def pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, quantile: float) -> float:
    """Mean pinball (quantile) loss of predictions of the ``quantile``."""
    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.mean(np.maximum(quantile * diff, (quantile - 1) * diff)))


def interval_coverage(y_true: ArrayLike, lower: ArrayLike | None, upper: ArrayLike) -> float:
    """Share of targets at or below ``upper`` (and at or above ``lower`` when given)."""
    y = np.asarray(y_true, dtype=float)
    inside = y <= np.asarray(upper, dtype=float)
    if lower is not None:
        inside &= y >= np.asarray(lower, dtype=float)
    return float(inside.mean())
