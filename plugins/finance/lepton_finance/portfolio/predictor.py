"""PortfolioPredictor: a recent price history (JSON rows, or a whole CSV/Parquet table) + a risk profile -> weights.

Input item: ``rows`` (the price table as rows, oldest or newest first: wide ``{date, <asset>: price, ...}`` or long
``{date, asset, price}``; at least the bundle's ``history + 1`` dates of every trained asset), optional
``risk_profile`` (one of the bundle's profiles; default the run's) and optional ``current_weights`` (what is held
now: the optimiser then charges the trading cost of moving away from it). `lepton predict BUNDLE prices.csv`
reads the whole table as one item. Output: the weights per asset, the expected annual return and volatility.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lepton_core.deploy.predictor import Predictor
from lepton_core.errors import DataError
from lepton_core.hooks.specs import DeployContext
from lepton_finance.portfolio.features import window_features
from lepton_finance.portfolio.forecast import ForecastSettings, forecast_covariance, per_period_moments
from lepton_finance.portfolio.model import ReturnRiskNet
from lepton_finance.portfolio.optimiser import Optimiser, RiskProfile
from lepton_finance.portfolio.prices import PriceColumns, price_frame

__all__ = ["Allocation", "PortfolioPredictor", "PriceHistory"]

MAX_ROWS, MAX_COLUMNS = 5000, 1001
Cell = str | float | None


class PriceHistory(BaseModel):
    """A price history to allocate over, the investor's risk profile and (optionally) the current holdings."""

    model_config = ConfigDict(extra="forbid")
    rows: list[Annotated[dict[str, Cell], Field(max_length=MAX_COLUMNS)]] = Field(
        min_length=2, max_length=MAX_ROWS, description="price rows: {date, <asset>: price} or {date, asset, price}"
    )
    risk_profile: str | None = Field(default=None, max_length=64, description="a profile of the bundle")
    current_weights: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = Field(default=None, max_length=MAX_COLUMNS)

    @field_validator("rows")
    @classmethod
    def _finite(cls, rows: list[dict[str, Cell]]) -> list[dict[str, Cell]]:
        for row in rows:
            if any(isinstance(v, float) and not math.isfinite(v) for v in row.values()):
                raise ValueError("every price must be a finite number")
        return rows


class Allocation(BaseModel):
    """Weights per asset (they sum to 1) and what the forecaster expects of the portfolio, annualised."""

    as_of: str
    risk_profile: str
    weights: dict[str, float]
    expected_return: float
    expected_volatility: float


class PortfolioPredictor(Predictor):
    """Forecast each asset's next-period return and risk with the network, then solve the profile's allocation."""

    input_model = PriceHistory
    output_model = Allocation
    input_kind = "frame"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module)
        self.assets: list[str] = [str(a) for a in state["assets"]]
        self.settings = ForecastSettings.from_state(state["forecast"])
        self.columns = PriceColumns(**state["columns"])
        self.profiles = {
            name: RiskProfile(name, float(p["risk_aversion"]), float(p["max_weight"])) for name, p in state["risk_profiles"].items()
        }
        self.default_profile = str(state["risk_profile"])
        self.cost_bps, self.per_year = float(state["cost_bps"]), int(state["periods_per_year"])
        self.optimisers: dict[str, Optimiser] = {}

    @classmethod
    def from_context(cls, ctx: DeployContext) -> PortfolioPredictor:
        """Rebuild the network from the bundle's model arguments; everything else comes from its state."""
        return cls(ctx.build_model(ReturnRiskNet), dict(ctx.state))

    def _optimiser(self, name: str, index: int) -> Optimiser:
        if name not in self.profiles:
            raise DataError(f"input item {index}: unknown risk_profile '{name}'", f"use one of {', '.join(self.profiles)}")
        if name not in self.optimisers:
            self.optimisers[name] = Optimiser(len(self.assets), self.profiles[name], self.cost_bps, self.settings.horizon)
        return self.optimisers[name]

    def _log_returns(self, item: PriceHistory, index: int) -> tuple[np.ndarray, pd.Timestamp]:
        prices = price_frame(pd.DataFrame(item.rows), self.columns, f"input item {index}")
        missing = [a for a in self.assets if a not in prices.columns]
        if missing:
            raise DataError(
                f"input item {index}: no prices for asset(s) {', '.join(missing[:5])}",
                f"send a price for every asset the bundle was trained on ({len(self.assets)}: {', '.join(self.assets[:5])}, ...)",
            )
        need = self.settings.history + 1
        if len(prices) < need:
            raise DataError(
                f"input item {index}: {len(prices)} dates of prices, the forecaster needs {need}",
                f"send at least the last {need} dates (the bundle's input example has them)",
            )
        values = prices[self.assets].to_numpy()[-need:]
        return np.log(values[1:] / values[:-1]), prices.index[-1]

    def _previous(self, item: PriceHistory, index: int) -> np.ndarray | None:
        if item.current_weights is None:
            return None
        unknown = sorted(set(item.current_weights) - set(self.assets))
        total = sum(item.current_weights.values())
        if unknown or not 0.99 <= total <= 1.01:
            problem = f"unknown asset(s) {', '.join(unknown[:5])}" if unknown else f"weights summing to {total:.3f}"
            raise DataError(f"input item {index}: current_weights has {problem}", "send weights of trained assets that sum to 1")
        return np.array([item.current_weights.get(a, 0.0) for a in self.assets]) / total

    def preprocess(self, items: Sequence[BaseModel]) -> tuple[torch.Tensor, ...]:
        """(items x assets, features): every asset's window of every item, for the shared network."""
        blocks = []
        for index, item in enumerate(items):
            assert isinstance(item, PriceHistory)
            self._optimiser(item.risk_profile or self.default_profile, index)  # an unknown profile fails first
            log_returns, _ = self._log_returns(item, index)
            end, settings = np.array([len(log_returns) - 1]), self.settings
            blocks.append(window_features(log_returns, end, settings.window, settings.scale, settings.history)[0])
        return (torch.from_numpy(np.concatenate(blocks)),)

    def postprocess(self, outputs: Any, items: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """One allocation per price history: the network's moments, the shrunk correlation, the profile's optimiser."""
        moments = torch.as_tensor(outputs).double().cpu().numpy().reshape(len(items), len(self.assets), 2)
        results = []
        for index, (item, out) in enumerate(zip(items, moments)):
            assert isinstance(item, PriceHistory)
            profile = item.risk_profile or self.default_profile
            log_returns, as_of = self._log_returns(item, index)
            mean, variance = per_period_moments(out, self.settings)
            covariance = forecast_covariance(log_returns, len(log_returns) - 1, variance, self.settings.cov_window)
            weights = self._optimiser(profile, index).solve(mean, covariance, self._previous(item, index))
            results.append({
                "as_of": as_of.strftime("%Y-%m-%d"),
                "risk_profile": profile,
                "weights": {a: round(float(w), 6) for a, w in zip(self.assets, weights)},
                "expected_return": float(weights @ mean * self.per_year),
                "expected_volatility": float(np.sqrt(weights @ covariance @ weights * self.per_year)),
            })
        return results
