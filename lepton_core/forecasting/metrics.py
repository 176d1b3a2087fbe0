"""Forecast accuracy: MASE, sMAPE, WAPE, weighted quantile loss and interval coverage, per series and overall.

- ``mase``: mean absolute error over the in-sample MAE of the seasonal naive forecast of the series'
  own history (lag ``season``; lag 1 when the history is not longer than a season). Series whose
  scale is zero (constant or all-zero history) get NaN and are left out of the overall mean.
- ``smape``: mean of 200·|e| / (|y| + |ŷ|) in percent (0 where both are zero), over all points.
- ``wape``: Σ|e| / Σ|y| (pooled over all series overall; NaN for a series whose actuals are all zero).
- ``quantile_loss``: weighted quantile loss, the mean over levels of 2·Σ pinball / Σ|y| (the evaluation
  scores a point forecast, such as a baseline's, as the same value at every level).
- ``coverage_<p>``: share of actuals inside the outermost quantiles (nominal ``p`` %), e.g. coverage_80
  for the 0.1 and 0.9 quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["forecast_metrics", "mase_scale"]


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (lag 1 for short histories)."""
    h = np.asarray(history, dtype=float)
    lag = season if len(h) > season else 1
    if len(h) <= lag:
        return float("nan")
    return float(np.mean(np.abs(h[lag:] - h[:-lag])))


def _safe_ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def forecast_metrics(
    actual: np.ndarray,
    point: np.ndarray,
    histories: Sequence[np.ndarray],
    season: int,
    quantiles: np.ndarray | None = None,
    levels: Sequence[float] = (),
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Overall metrics and one dict per series for (series, horizon) actuals and point forecasts.

    ``quantiles`` (series, horizon, Q) at ``levels`` adds quantile loss and coverage.
    """
    actual = np.asarray(actual, dtype=float)
    point = np.asarray(point, dtype=float)
    err = np.abs(actual - point)
    denom = np.abs(actual) + np.abs(point)
    smape_points = np.where(denom > 0, 200 * err / np.where(denom > 0, denom, 1), 0.0)
    scales = np.array([mase_scale(h, season) for h in histories])
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = np.where(scales > 0, err.mean(1) / scales, np.nan)
    per_series = [
        {
            "mase": float(mase[i]),
            "smape": float(smape_points[i].mean()),
            "wape": _safe_ratio(err[i].sum(), np.abs(actual[i]).sum()),
        }
        for i in range(len(actual))
    ]
    valid = mase[np.isfinite(mase)]
    overall = {
        "mase": float(valid.mean()) if valid.size else float("nan"),
        "smape": float(smape_points.mean()),
        "wape": _safe_ratio(err.sum(), np.abs(actual).sum()),
        "mae": float(err.mean()),
    }
    if quantiles is not None and len(levels):
        q = np.asarray(quantiles, dtype=float)
        lv = np.asarray(levels, dtype=float)
        diff = actual[..., None] - q
        loss = np.maximum(lv * diff, (lv - 1) * diff)
        lo, hi = q[..., 0], q[..., -1]
        inside = (actual >= lo) & (actual <= hi)
        name = f"coverage_{round((lv[-1] - lv[0]) * 100)}"
        for i, row in enumerate(per_series):
            row["quantile_loss"] = _safe_ratio(2 * loss[i].sum(0).mean(), np.abs(actual[i]).sum())
            row[name] = float(inside[i].mean())
        overall["quantile_loss"] = _safe_ratio(2 * loss.sum((0, 1)).mean(), np.abs(actual).sum())
        overall[name] = float(inside.mean())
    return overall, per_series
