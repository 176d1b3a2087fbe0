"""Gradient boosting on window summary features: the classical reference for RUL regression."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["WindowBoostingBaseline", "window_features"]


def window_features(windows: np.ndarray) -> np.ndarray:
    """Per channel: last value, mean, std, min, max and least-squares slope over the window."""
    steps = windows.shape[1]
    time = np.arange(steps, dtype=np.float64) - (steps - 1) / 2
    slope = np.einsum("t,ntc->nc", time, windows) / float((time**2).sum())
    parts = (windows[:, -1], windows.mean(1), windows.std(1), windows.min(1), windows.max(1), slope)
    return np.concatenate(parts, axis=1).astype(np.float32)


class WindowBoostingBaseline:
    """Histogram gradient boosting (scikit-learn) on :func:`window_features` of normalised windows.

    Runs on one OpenMP thread: on a busy machine, several spinning threads make it tens of times slower.
    """

    name = "gradient_boosting"

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, max_leaf_nodes: int = 31, seed: int = 0) -> None:
        self.params = {"max_iter": max_iter, "learning_rate": learning_rate, "max_leaf_nodes": max_leaf_nodes}
        self.seed = seed

    def fit(self, datamodule: Any) -> WindowBoostingBaseline:
        """Fit on the training units' windows (normalised like the network's inputs)."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        x, y = datamodule.tensors["train"]
        self.rul_cap = datamodule.rul_cap
        self.model = HistGradientBoostingRegressor(**self.params, random_state=self.seed)
        with threadpool_limits(1):
            self.model.fit(window_features(x.numpy()), y.numpy())
        return self

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Remaining useful life for normalised windows (n, window, channels), clipped to [0, rul_cap]."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return np.clip(self.model.predict(window_features(windows)), 0.0, self.rul_cap)
