"""Classical forecasting baselines: seasonal naive, exponential smoothing and theta (statsmodels), per series.

All follow the core ``Baseline`` protocol: ``fit(datamodule)`` reads the horizon and season length
from a :class:`~lepton_core.forecasting.datamodule.ForecastDataModule`; ``predict(histories)`` takes one
1-D array of past values per series and returns point forecasts of shape (series, horizon).

They are refitted on every history they are given (cheap), so a bundle that deploys one stores only
its configuration: ``to_state()`` is plain JSON and :func:`statistical_model_from_state` rebuilds the
model from it, choosing the class from a fixed table of this module (never a name from the bundle).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from lepton_core.extras import require

__all__ = [
    "STATISTICAL_MODELS",
    "ExponentialSmoothingBaseline",
    "SeasonalNaive",
    "ThetaBaseline",
    "seasonal_naive_forecast",
    "statistical_model_from_state",
]


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

    def to_state(self) -> dict[str, Any]:
        """The fitted configuration as plain JSON."""
        return {"kind": self.name, "horizon": self.horizon, "season_length": self.season_length}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeasonalNaive:
        """Rebuild from :meth:`to_state`."""
        model = cls(season_length=int(state["season_length"]))
        model.horizon = int(state["horizon"])
        return model


class _RefittedPerSeries:
    """A statistical model refitted on each history it forecasts (its last ``max_history`` points; all when
    None), falling back to seasonal naive where the fit fails; configuration as plain JSON."""

    name = ""

    def __init__(self, season_length: int | None = None, max_history: int | None = None) -> None:
        require("statsmodels", "forecast", f"the {self.name} baseline")  # one line now, not an ImportError per series
        self.season_length = season_length
        self.max_history = max_history
        self.horizon = 1
        self.fallbacks = 0

    def fit(self, datamodule: Any) -> Self:
        """Take the horizon and, unless given, the season length from the data."""
        self.horizon = int(datamodule.horizon)
        self.season_length = int(self.season_length or datamodule.series.season_length)
        return self

    def _recent(self, history: np.ndarray) -> np.ndarray:
        y = np.asarray(history, dtype=float)
        return y[-self.max_history :] if self.max_history else y

    def _finite_or_naive(self, forecast: np.ndarray, y: np.ndarray) -> np.ndarray:
        if np.all(np.isfinite(forecast)):
            return forecast
        self.fallbacks += 1
        return seasonal_naive_forecast(y, self.horizon, self.season_length)

    def _forecast_one(self, history: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Point forecasts, shape (series, horizon); BLAS on one thread (many tiny fits: threads only spin)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return np.stack([self._forecast_one(h) for h in histories])

    def to_state(self) -> dict[str, Any]:
        """The fitted configuration as plain JSON."""
        return {"kind": self.name, "horizon": self.horizon, "season_length": self.season_length, "max_history": self.max_history}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        """Rebuild from :meth:`to_state`."""
        max_history = state.get("max_history")
        model = cls(int(state["season_length"]), int(max_history) if max_history else None)
        model.horizon = int(state["horizon"])
        return model


class ExponentialSmoothingBaseline(_RefittedPerSeries):
    """Holt-Winters per series (statsmodels): damped additive trend, additive season when two seasons are seen.

    Fitted on the last ``max_history`` points of each history (all when None); a series the optimiser
    cannot fit falls back to seasonal naive.
    """

    name = "exponential_smoothing"

    def __init__(self, season_length: int | None = None, max_history: int | None = None, damped_trend: bool = True) -> None:
        super().__init__(season_length, max_history)
        self.damped_trend = damped_trend

    def _forecast_one(self, history: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        y = self._recent(history)
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
        return self._finite_or_naive(forecast, y)

    def to_state(self) -> dict[str, Any]:
        """The fitted configuration as plain JSON."""
        return {**super().to_state(), "damped_trend": self.damped_trend}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ExponentialSmoothingBaseline:
        """Rebuild from :meth:`to_state`."""
        model = super().from_state(state)
        model.damped_trend = bool(state["damped_trend"])
        return model


class ThetaBaseline(_RefittedPerSeries):
    """The theta method per series (statsmodels ``ThetaModel``): SES with drift on the deseasonalised series.

    Seasonality is tested and removed (multiplicatively for positive series, else additively) when two
    seasons are seen. Fitted on the last ``max_history`` points (all when None); a series it cannot fit
    (under 4 points, constant, or a failed fit) falls back to seasonal naive.
    """

    name = "theta"

    def _forecast_one(self, history: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = self._recent(history)
        m = self.season_length
        if len(y) < 4 or not np.any(y != y[0]):
            return np.full(self.horizon, y[-1] if len(y) else 0.0)
        seasonal = m > 1 and len(y) >= 2 * m
        method = "multiplicative" if np.all(y > 0) else "additive"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = ThetaModel(y, period=m if seasonal else 1, deseasonalize=seasonal, method=method).fit()
                forecast = np.asarray(fitted.forecast(self.horizon), dtype=float)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            forecast = np.full(self.horizon, np.nan)
        return self._finite_or_naive(forecast, y)



STATISTICAL_MODELS: dict[str, type] = {
    SeasonalNaive.name: SeasonalNaive,
    ExponentialSmoothingBaseline.name: ExponentialSmoothingBaseline,
    ThetaBaseline.name: ThetaBaseline,
}


def statistical_model_from_state(state: dict[str, Any]) -> SeasonalNaive | ExponentialSmoothingBaseline | ThetaBaseline:
    """Rebuild a statistical model from its ``to_state()``; an unknown kind is a BundleError."""
    from lepton_core.errors import BundleError

    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in STATISTICAL_MODELS:
        raise BundleError(
            f"the bundle's forecast combination names an unknown statistical model {kind!r}",
            f"rebuild the bundle with this version of lepton-core (known: {', '.join(STATISTICAL_MODELS)})",
        )
    return STATISTICAL_MODELS[kind].from_state(state)
