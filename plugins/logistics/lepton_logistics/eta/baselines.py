"""eta baselines: a linear model on distance alone, and gradient boosting (P50 and P90) on every feature.

Both predict ``(p50, p90)`` for a split of the datamodule, so they are scored exactly like the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LinearDistanceBaseline:
    """Minutes = a + b * distance; P90 adds the 90th percentile of the training residuals."""

    name = "linear_distance"

    def fit(self, datamodule: Any) -> LinearDistanceBaseline:
        """Least squares on the training split's distance column."""
        from sklearn.linear_model import LinearRegression

        self.column = datamodule.distance_feature
        distance = self._distance(datamodule, "train", fit=True)
        y = datamodule.targets["train"]
        self.model = LinearRegression().fit(distance, y)
        self.p90_offset = float(np.quantile(y - self.model.predict(distance), 0.9))
        return self

    def _distance(self, datamodule: Any, split: str, fit: bool = False) -> np.ndarray:
        import pandas as pd

        values = pd.to_numeric(datamodule.frames[split][self.column], errors="coerce").to_numpy(dtype=float)
        if fit:
            self.fill = float(np.nanmedian(values))
        return np.where(np.isnan(values), self.fill, values).reshape(-1, 1)

    def predict(self, inputs: tuple[Any, str]) -> tuple[np.ndarray, np.ndarray]:
        """(P50, P90) for ``(datamodule, split)``."""
        datamodule, split = inputs
        p50 = self.model.predict(self._distance(datamodule, split))
        return p50, p50 + self.p90_offset


class GradientBoostingBaseline:
    """scikit-learn HistGradientBoosting with the quantile loss at 0.5 and 0.9, native categorical support."""

    name = "gradient_boosting"

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1, seed: int = 0) -> None:
        self.max_iter, self.learning_rate, self.seed = max_iter, learning_rate, seed

    def _matrix(self, datamodule: Any, split: str) -> np.ndarray:
        x_num, x_cat, _ = datamodule.tensors[split]
        return np.hstack([x_num.numpy(), x_cat.numpy().astype(np.float64)])

    def fit(self, datamodule: Any) -> GradientBoostingBaseline:
        """Fit one booster per quantile on the encoded training split (early stopping on an inner split)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        x = self._matrix(datamodule, "train")
        y = datamodule.targets["train"]
        n_num = datamodule.tensors["train"][0].shape[1]
        categorical = [False] * n_num + [True] * (x.shape[1] - n_num)
        self.models = [
            HistGradientBoostingRegressor(
                loss="quantile", quantile=q, max_iter=self.max_iter, learning_rate=self.learning_rate,
                categorical_features=categorical if any(categorical) else None, random_state=self.seed,
            ).fit(x, y)
            for q in (0.5, 0.9)
        ]
        return self

    def predict(self, inputs: tuple[Any, str]) -> tuple[np.ndarray, np.ndarray]:
        """(P50, P90) for ``(datamodule, split)``; P90 never below P50."""
        datamodule, split = inputs
        x = self._matrix(datamodule, split)
        p50, p90 = (m.predict(x) for m in self.models)
        return p50, np.maximum(p90, p50)
