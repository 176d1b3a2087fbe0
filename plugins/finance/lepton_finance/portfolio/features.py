"""Rolling-window inputs of the return/risk forecaster (shared by training, the backtest and the predictor)."""

from __future__ import annotations

import numpy as np

__all__ = ["CHANNELS", "SUMMARY_SPANS", "feature_count", "forecast_targets", "window_features"]

CHANNELS = 3  # the asset's log return, its absolute value, the equal-weight market's log return
SUMMARY_SPANS = (20, 60, 120)  # trailing spans of the momentum and volatility summaries (capped at the history)


def feature_count(window: int) -> int:
    """Inputs per asset: the raw window channels, then a mean and a volatility per summary span."""
    return CHANNELS * window + 2 * len(SUMMARY_SPANS)


def window_features(log_returns: np.ndarray, ends: np.ndarray, window: int, scale: float, history: int) -> np.ndarray:
    """(len(ends), assets, feature_count(window)) float32 from the returns up to each end index (inclusive).

    The last ``window`` returns of the asset (raw, absolute) and of the market, then for each summary span
    (at most ``history``) the asset's mean return times sqrt(span) and its volatility, all over ``scale``.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    ends = np.asarray(ends, dtype=int)
    windows = sliding_window_view(log_returns, window, axis=0)[ends - window + 1]  # (E, assets, window)
    market = np.broadcast_to(windows.mean(axis=1, keepdims=True), windows.shape)
    parts = [windows, np.abs(windows), market]
    for span in SUMMARY_SPANS:
        span = min(span, history)
        recent = sliding_window_view(log_returns, span, axis=0)[ends - span + 1]
        parts += [recent.mean(axis=2, keepdims=True) * np.sqrt(span), recent.std(axis=2, keepdims=True)]
    return (np.concatenate(parts, axis=2) / scale).astype(np.float32)


def forecast_targets(log_returns: np.ndarray, ends: np.ndarray, horizon: int, scale: float) -> np.ndarray:
    """(len(ends), assets) float32: the next ``horizon`` log returns summed, over ``scale * sqrt(horizon)``."""
    cumulative = np.vstack([np.zeros(log_returns.shape[1]), np.cumsum(log_returns, axis=0)])
    ends = np.asarray(ends, dtype=int)
    total = cumulative[ends + 1 + horizon] - cumulative[ends + 1]
    return (total / (scale * np.sqrt(horizon))).astype(np.float32)
