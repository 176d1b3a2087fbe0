"""Classical allocations the deep model is judged against: equal weight, minimum variance, sample mean-variance."""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton_finance.portfolio.optimiser import Optimiser, shrunk_covariance

__all__ = ["EqualWeightBaseline", "MeanVarianceBaseline", "MinimumVarianceBaseline"]


class _Allocation:
    """A baseline of the backtest: ``allocate(log_returns, end, previous, optimiser)`` -> weights after ``end``."""

    name = "allocation"

    def fit(self, datamodule: Any) -> _Allocation:
        """Nothing to fit: these rules read only the trailing returns of each rebalance date."""
        return self

    def prepare(self, log_returns: np.ndarray, ends: np.ndarray) -> None:
        """Nothing to precompute."""

    def predict(self, inputs: tuple[np.ndarray, int, np.ndarray | None, Optimiser]) -> np.ndarray:
        """``allocate(*inputs)`` (the Baseline protocol's name for it)."""
        return self.allocate(*inputs)

    def allocate(self, log_returns: np.ndarray, end: int, previous: np.ndarray | None, optimiser: Optimiser) -> np.ndarray:
        raise NotImplementedError


class EqualWeightBaseline(_Allocation):
    """1/N in every asset, rebalanced back to it every holding period."""

    name = "equal_weight"

    def allocate(self, log_returns: np.ndarray, end: int, previous: np.ndarray | None, optimiser: Optimiser) -> np.ndarray:
        """1/N."""
        return np.full(log_returns.shape[1], 1.0 / log_returns.shape[1])


class MinimumVarianceBaseline(_Allocation):
    """Least-variance long-only portfolio under the profile's cap, Ledoit-Wolf covariance of the last ``cov_window``."""

    name = "min_variance"

    def __init__(self, cov_window: int = 126) -> None:
        self.cov_window = int(cov_window)

    def allocate(self, log_returns: np.ndarray, end: int, previous: np.ndarray | None, optimiser: Optimiser) -> np.ndarray:
        """The optimiser with a zero mean: risk and trading cost only."""
        covariance = shrunk_covariance(log_returns[end - self.cov_window + 1 : end + 1])
        return optimiser.solve(None, covariance, previous)


class MeanVarianceBaseline(MinimumVarianceBaseline):
    """The same optimiser as the model, fed sample estimates: trailing mean return and Ledoit-Wolf covariance."""

    name = "mean_variance"

    def __init__(self, cov_window: int = 126, mean_window: int = 126) -> None:
        super().__init__(cov_window)
        self.mean_window = int(mean_window)

    def forecast(self, log_returns: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Trailing mean simple return and shrunk covariance per period."""
        covariance = shrunk_covariance(log_returns[end - self.cov_window + 1 : end + 1])
        mean_log = log_returns[end - self.mean_window + 1 : end + 1].mean(axis=0)
        return mean_log + np.diag(covariance) / 2, covariance

    def allocate(self, log_returns: np.ndarray, end: int, previous: np.ndarray | None, optimiser: Optimiser) -> np.ndarray:
        """Sample estimates through the optimiser."""
        mean, covariance = self.forecast(log_returns, end)
        return optimiser.solve(mean, covariance, previous)
