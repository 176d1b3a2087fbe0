"""From a price history to the optimiser's inputs: the network's per-asset mean and variance, a shrunk correlation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lepton_finance.portfolio.features import window_features
from lepton_finance.portfolio.optimiser import Optimiser, shrunk_covariance

__all__ = ["ForecastSettings", "ModelAllocator", "forecast_covariance", "net_forecasts", "per_period_moments"]


@dataclass(frozen=True)
class ForecastSettings:
    """Window lengths and the return scale the network was trained with."""

    window: int
    horizon: int
    cov_window: int
    scale: float

    @property
    def history(self) -> int:
        """Log returns a forecast needs (the longer of the two windows)."""
        return max(self.window, self.cov_window)

    def to_state(self) -> dict[str, Any]:
        """Plain JSON."""
        return {"window": self.window, "horizon": self.horizon, "cov_window": self.cov_window, "scale": self.scale}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ForecastSettings:
        """Inverse of ``to_state``."""
        return cls(int(state["window"]), int(state["horizon"]), int(state["cov_window"]), float(state["scale"]))


def net_forecasts(
    net: torch.nn.Module, log_returns: np.ndarray, ends: np.ndarray, settings: ForecastSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Per end index and asset: expected simple return and variance per period, from the network (eval mode)."""
    features = window_features(log_returns, ends, settings.window, settings.scale, settings.history)
    shape = features.shape
    was_training = net.training
    net.eval()
    with torch.inference_mode():
        out = net(torch.from_numpy(features.reshape(-1, shape[2]))).double().numpy().reshape(shape[0], shape[1], 2)
    net.train(was_training)
    return per_period_moments(out, settings)


def per_period_moments(out: np.ndarray, settings: ForecastSettings) -> tuple[np.ndarray, np.ndarray]:
    """The network's (..., 2) outputs -> expected simple return and variance per period."""
    # the network sees sums over the horizon divided by scale * sqrt(horizon); per period: mean * scale / sqrt(h),
    # variance * scale^2
    variance = np.exp(out[..., 1]) * settings.scale**2
    mean_log = out[..., 0] * settings.scale / np.sqrt(settings.horizon)
    return mean_log + variance / 2, variance  # E[simple return] of a log-normal period return


def forecast_covariance(log_returns: np.ndarray, end: int, variance: np.ndarray, cov_window: int) -> np.ndarray:
    """The network's variances on the diagonal, the shrunk correlation of the last ``cov_window`` returns off it."""
    covariance = shrunk_covariance(log_returns[end - cov_window + 1 : end + 1])
    sd = np.sqrt(np.diag(covariance))
    correlation = covariance / np.outer(sd, sd)
    vol = np.sqrt(variance)
    return correlation * np.outer(vol, vol)


class ModelAllocator:
    """The deep contender of the backtest: forecasts for every rebalance date in one pass, then the optimiser."""

    name = "model"

    def __init__(self, net: torch.nn.Module, settings: ForecastSettings) -> None:
        self.net, self.settings = net, settings
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def prepare(self, log_returns: np.ndarray, ends: np.ndarray) -> None:
        """Forecast every end index at once (the backtest calls ``allocate`` for each afterwards)."""
        means, variances = net_forecasts(self.net, log_returns, ends, self.settings)
        self.cache = {int(e): (m, v) for e, m, v in zip(ends, means, variances)}

    def forecast(self, log_returns: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Expected return and covariance per period for the period after ``end``."""
        if end not in self.cache:
            self.prepare(log_returns, np.array([end]))
        mean, variance = self.cache[end]
        return mean, forecast_covariance(log_returns, end, variance, self.settings.cov_window)

    def allocate(self, log_returns: np.ndarray, end: int, previous: np.ndarray | None, optimiser: Optimiser) -> np.ndarray:
        """Weights to hold after ``end``."""
        mean, covariance = self.forecast(log_returns, end)
        return optimiser.solve(mean, covariance, previous)
