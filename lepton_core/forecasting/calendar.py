"""Calendar features made from timestamps, chosen by the series frequency.

On a regular grid the calendar position of every forecast step follows from the first one, so the
windowed models take the features of the first forecast step only:

- hourly / minutes: hour of day (one-hot, 24) and day of week (one-hot, 7)
- daily / business days: day of week (one-hot, 7) and day of year (sin, cos)
- weekly: week of year (sin, cos)
- monthly: month (one-hot, 12)
- quarterly: quarter (one-hot, 4)
- yearly: none
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lepton_core.forecasting.series import _base_freq

__all__ = ["calendar_feature_count", "calendar_features"]


def _one_hot(values: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[values.astype(int)]


def _cycle(position: np.ndarray, period: float) -> np.ndarray:
    angle = 2 * np.pi * position / period
    return np.stack([np.sin(angle), np.cos(angle)], axis=1).astype(np.float32)


def calendar_features(timestamps: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Features of each timestamp, shape (len(timestamps), calendar_feature_count(freq))."""
    unit = _base_freq(freq)
    ts = pd.DatetimeIndex(timestamps)
    if unit in {"h", "min", "S"}:
        return np.concatenate([_one_hot(ts.hour.to_numpy(), 24), _one_hot(ts.dayofweek.to_numpy(), 7)], axis=1)
    if unit in {"D", "B"}:
        return np.concatenate([_one_hot(ts.dayofweek.to_numpy(), 7), _cycle(ts.dayofyear.to_numpy(), 365.25)], axis=1)
    if unit == "W":
        return _cycle(ts.isocalendar().week.to_numpy(dtype=float), 52.18)
    if unit == "M":
        return _one_hot(ts.month.to_numpy() - 1, 12)
    if unit == "Q":
        return _one_hot(ts.quarter.to_numpy() - 1, 4)
    return np.zeros((len(ts), 0), dtype=np.float32)


def calendar_feature_count(freq: str) -> int:
    """How many calendar features a frequency gives."""
    return calendar_features(pd.DatetimeIndex([pd.Timestamp("2024-01-01")]), freq).shape[1]
