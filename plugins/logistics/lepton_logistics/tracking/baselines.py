"""order_tracking baselines: the median remaining time per (current status, hub), and gradient boosting on prefix features.

Both predict ``(p10, p50, p90)`` hours for ``(datamodule, split)``, so they are scored exactly like the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)


class StatusHubMedian:
    """Quantiles of the training prefixes' hours to delivery in the same (current status, hub) cell; cells with
    fewer than ``min_count`` prefixes fall back to the current status alone."""

    name = "status_hub_median"

    def __init__(self, min_count: int = 20) -> None:
        self.min_count = int(min_count)

    def fit(self, datamodule: Any) -> StatusHubMedian:
        """Tabulate the quantiles per cell on the training split."""
        status, hub, y = datamodule.prefixes["train"].current, datamodule.hubs("train"), datamodule.targets["train"]
        self.by_status = {int(s): np.quantile(y[status == s], QUANTILES) for s in np.unique(status)}
        self.by_cell = {}
        for s in np.unique(status):
            for h in np.unique(hub[status == s]):
                chosen = (status == s) & (hub == h)
                if chosen.sum() >= self.min_count:
                    self.by_cell[(int(s), str(h))] = np.quantile(y[chosen], QUANTILES)
        self.overall = np.quantile(y, QUANTILES)
        return self

    def predict(self, inputs: tuple[Any, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P10, P50, P90) for ``(datamodule, split)``."""
        datamodule, split = inputs
        status, hub = datamodule.prefixes[split].current, datamodule.hubs(split)
        rows = np.array([self.by_cell.get((int(s), str(h)), self.by_status.get(int(s), self.overall))
                         for s, h in zip(status, hub)]).reshape(-1, len(QUANTILES))
        return rows[:, 0], rows[:, 1], rows[:, 2]


class PrefixGradientBoosting:
    """scikit-learn HistGradientBoosting with the quantile loss at 0.1, 0.5 and 0.9 on log1p(hours), from the
    prefix features ("now" features, current and previous status) and the order's encoded columns."""

    name = "gradient_boosting"

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, seed: int = 0) -> None:
        self.max_iter, self.learning_rate, self.seed = max_iter, learning_rate, seed

    @staticmethod
    def _matrix(datamodule: Any, split: str) -> np.ndarray:
        return np.hstack([datamodule.prefixes[split].flat(), datamodule.static_features(split)])

    def fit(self, datamodule: Any) -> PrefixGradientBoosting:
        """One booster per quantile on the training prefixes (statuses and order categories as categorical)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        x = self._matrix(datamodule, "train")
        n_flat = datamodule.prefixes["train"].flat().shape[1]
        n_num = datamodule.tensors["train"][4].shape[1]
        categorical = np.zeros(x.shape[1], bool)
        categorical[n_flat - 4 : n_flat] = True  # hour, weekday, current and previous status
        categorical[n_flat + n_num :] = True
        y = np.log1p(datamodule.targets["train"].astype(np.float64))
        self.models = [
            HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=self.max_iter, learning_rate=self.learning_rate,
                                          categorical_features=categorical, random_state=self.seed).fit(x, y)
            for q in QUANTILES
        ]
        return self

    def predict(self, inputs: tuple[Any, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P10, P50, P90) hours for ``(datamodule, split)``, sorted so they never cross."""
        datamodule, split = inputs
        x = self._matrix(datamodule, split)
        values = np.sort(np.column_stack([np.expm1(m.predict(x)) for m in self.models]), axis=1).clip(min=0.0)
        return values[:, 0], values[:, 1], values[:, 2]
