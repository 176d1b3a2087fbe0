"""Forecast predictor: a series history in -> the next ``horizon`` timestamps with median and quantiles out.

Input item: ``unique_id`` (echoed), ``ds`` and ``y`` (the recent history on the bundle's frequency,
oldest first; the last ``input_size`` points are used, a shorter history is padded and masked), and
``covariates``: for each covariate the bundle was trained with, ``len(y) + horizon`` values (history,
then the known future). Output: ``ds`` of the forecast steps, ``forecast`` (the 0.5 quantile) and
``quantiles`` ({"0.1": [...], "0.9": [...]}).

When the run deployed a combination (state ``combination``, see
:mod:`lepton_core.forecasting.combination`), its statistical members are refitted on the history sent
and combined with the network exactly as the run evaluated them; send at least the state's
``combination.history`` points (the bundle's input example has them) to get the run's forecasts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lepton_core.deploy.predictor import Predictor
from lepton_core.errors import DataError
from lepton_core.forecasting.calendar import calendar_features
from lepton_core.forecasting.combination import NETWORK, ForecastCombination, combine_forecasts
from lepton_core.forecasting.series import format_timestamp
from lepton_core.hooks.specs import DeployContext

__all__ = ["ForecastPredictor", "SeriesForecast", "SeriesHistory"]


class SeriesHistory(BaseModel):
    """Recent history of one series (and its covariates over history + horizon)."""

    model_config = ConfigDict(extra="forbid")
    unique_id: str = "series"
    ds: list[str] = Field(min_length=1)
    y: list[float] = Field(min_length=1)
    covariates: dict[str, list[float]] = Field(default_factory=dict)

    @field_validator("y")
    @classmethod
    def _finite(cls, values: list[float]) -> list[float]:
        if not all(math.isfinite(v) for v in values):
            raise ValueError("every value must be a finite number")
        return values


class SeriesForecast(BaseModel):
    """Forecast of one series."""

    unique_id: str
    ds: list[str]
    forecast: list[float]
    quantiles: dict[str, list[float]]


class ForecastPredictor(Predictor):
    """Build the forecaster's inputs from raw histories, run it, return dated quantile forecasts."""

    input_model = SeriesHistory
    output_model = SeriesForecast
    input_kind = "json"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module)
        self.freq = str(state["freq"])
        self.input_size, self.horizon = int(state["input_size"]), int(state["horizon"])
        self.covariates = list(state["covariates"])
        self.covariate_mean = np.asarray(state["covariate_mean"], dtype=float)
        self.covariate_std = np.asarray(state["covariate_std"], dtype=float)
        self.levels = [float(q) for q in module.quantile_levels.tolist()]
        self.median_index = self.levels.index(0.5)
        combination = state.get("combination")
        self.combination = ForecastCombination.from_state(combination) if combination else None
        self.statistical = self.combination.statistical_models() if self.combination else {}

    @classmethod
    def from_context(cls, ctx: DeployContext) -> ForecastPredictor:
        """Rebuild the forecaster from the bundle's model arguments and state."""
        from lepton_core.forecasting.model import GlobalForecaster

        return cls(ctx.build_model(GlobalForecaster), dict(ctx.state))

    def _future_stamps(self, item: SeriesHistory, index: int) -> pd.DatetimeIndex:
        stamps = pd.to_datetime(pd.Series(item.ds), errors="coerce", format="mixed")
        if stamps.isna().any() or len(stamps) != len(item.y):
            raise DataError(
                f"input item {index}: 'ds' needs {len(item.y)} parseable dates, one per value of 'y'",
                "send ds as ISO dates aligned with y",
            )
        return pd.date_range(stamps.iloc[-1], periods=self.horizon + 1, freq=self.freq)[1:]

    def _covariate_block(self, item: SeriesHistory, index: int) -> np.ndarray:
        extra = sorted(set(item.covariates) - set(self.covariates))
        missing = [name for name in self.covariates if name not in item.covariates]
        if extra or missing:
            raise DataError(
                f"input item {index}: covariates {missing or extra} {'missing' if missing else 'unknown'}",
                f"send exactly the covariates {self.covariates}",
            )
        want = len(item.y) + self.horizon
        columns = []
        for name in self.covariates:
            values = item.covariates[name]
            if len(values) != want or not all(math.isfinite(v) for v in values):
                raise DataError(
                    f"input item {index}: covariate '{name}' has {len(values)} values, needs {want} finite ones",
                    "send one value per history step and per forecast step",
                )
            columns.append(values)
        block = np.asarray(columns, dtype=float).T.reshape(want, len(self.covariates))
        block = (block - self.covariate_mean) / self.covariate_std
        block = block[-(self.input_size + self.horizon) :]
        pad = self.input_size + self.horizon - len(block)
        return np.concatenate([np.repeat(block[:1], pad, 0), block]) if pad > 0 and len(block) else block

    def preprocess(self, items: Sequence[SeriesHistory]) -> tuple[torch.Tensor, ...]:
        histories, masks, covs, cals = [], [], [], []
        for index, item in enumerate(items):
            future = self._future_stamps(item, index)
            y = np.asarray(item.y, dtype=float)[-self.input_size :]
            pad = self.input_size - len(y)
            histories.append(np.concatenate([np.zeros(pad), y]))
            masks.append(np.concatenate([np.zeros(pad), np.ones(len(y))]))
            covs.append(self._covariate_block(item, index))
            cals.append(calendar_features(future[:1], self.freq)[0])
        return tuple(torch.tensor(np.stack(rows), dtype=torch.float32) for rows in (histories, masks, covs, cals))

    def postprocess(self, outputs: Any, items: Sequence[SeriesHistory]) -> list[dict[str, Any]]:
        values = torch.as_tensor(outputs).float().cpu().numpy()
        if self.combination is not None and self.combination.members != (NETWORK,):
            histories = [np.asarray(item.y, dtype=float) for item in items]
            points = {name: model.predict(histories) for name, model in self.statistical.items()}
            values = combine_forecasts(self.combination, values.astype(np.float64), self.median_index, points)
        results = []
        for index, (item, forecast) in enumerate(zip(items, values)):
            stamps = self._future_stamps(item, index)
            results.append(
                {
                    "unique_id": item.unique_id,
                    "ds": [format_timestamp(t) for t in stamps],
                    "forecast": [float(v) for v in forecast[:, self.median_index]],
                    "quantiles": {f"{q:g}": [float(v) for v in forecast[:, j]] for j, q in enumerate(self.levels)},
                }
            )
        return results
