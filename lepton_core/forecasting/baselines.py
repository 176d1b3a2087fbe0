"""Classical forecasting baselines: seasonal naive and exponential smoothing (statsmodels), per series.

Both follow the core ``Baseline`` protocol: ``fit(datamodule)`` reads the horizon and season length
from a :class:`~lepton_core.forecasting.windows.ForecastDataModule`; ``predict(histories)`` takes one
1-D array of past values per series and returns point forecasts of shape (series, horizon).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ExponentialSmoothingBaseline", "SeasonalNaive", "seasonal_naive_forecast"]


def seasonal_naive_forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last season (the last value when the history is shorter than a season)."""
    history = np.asarray(history, dtype=float)
    if season <= 1 or len(history) < season:
        return np.full(horizon, history[-1] if len(history) else 0.0)
    last = history[-season:]
    return np.resize(last, horizon)


class SeasonalNaive:
    """y[t + h] = y[t + h - m·k]: the value one season earlier (``season_length`` from the frequency when None)."""

    name = "seasonal_naive"

    def __init__(self, season_length: int | None = None) -> None:
        self.season_length = season_length
        self.horizon = 1

    def fit(self, datamodule: Any) -> SeasonalNaive:
        """Take the horizon and, unless given, the season length from the data."""
        self.horizon = int(datamodule.horizon)
        self.season_length = int(self.season_length or datamodule.series.season_length)
        return self

    def predict(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Point forecasts, shape (series, horizon)."""
        return np.stack([seasonal_naive_forecast(h, self.horizon, self.season_length) for h in histories])


class ExponentialSmoothingBaseline:
    """Holt-Winters per series (statsmodels): damped additive trend, additive season when two seasons are seen.

    Fitted on the last ``max_history`` points of each history (all when None); a series the optimiser
    cannot fit falls back to seasonal naive.
    """

    name = "exponential_smoothing"

    def __init__(self, season_length: int | None = None, max_history: int | None = None, damped_trend: bool = True) -> None:
        self.season_length = season_length
        self.max_history = max_history
        self.damped_trend = damped_trend
        self.horizon = 1
        self.fallbacks = 0

    def fit(self, datamodule: Any) -> ExponentialSmoothingBaseline:
        """Take the horizon and, unless given, the season length from the data."""
        self.horizon = int(datamodule.horizon)
        self.season_length = int(self.season_length or datamodule.series.season_length)
        return self

    def _forecast_one(self, history: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        y = np.asarray(history, dtype=float)
        if self.max_history:
            y = y[-self.max_history :]
        m = self.season_length
        if len(y) < 10 or not np.any(y != y[0]):
            return np.full(self.horizon, y[-1] if len(y) else 0.0)
        seasonal = "add" if m > 1 and len(y) >= 2 * m + 2 else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ExponentialSmoothing(
                    y,
                    trend="add",
                    damped_trend=self.damped_trend,
                    seasonal=seasonal,
                    seasonal_periods=m if seasonal else None,
                    initialization_method="estimated",
                ).fit()
                forecast = np.asarray(model.forecast(self.horizon), dtype=float)
        except (ValueError, np.linalg.LinAlgError):
            forecast = np.full(self.horizon, np.nan)
        if not np.all(np.isfinite(forecast)):
            self.fallbacks += 1
            return seasonal_naive_forecast(y, self.horizon, m)
        return forecast

    def predict(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Point forecasts, shape (series, horizon); BLAS on one thread (many tiny fits: threads only spin)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return np.stack([self._forecast_one(h) for h in histories])
