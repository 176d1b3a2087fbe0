"""Deployed inventory predictor: a part's recent daily demand and stock position in, the order to place now out.

Input item (a CSV row or a JSON object): ``sku``, ``last_date`` (the day of the last demand value),
``demand`` (recent daily demand, oldest first: a JSON list, or in a CSV cell numbers separated by spaces;
the last ``input_size`` days are read, a shorter history is padded), ``on_hand`` (negative: backorders),
``on_order`` (ordered, not yet received) and optionally ``lead_time`` (days; default: the SKU's lead time
in the training data, else the training default) and ``service_level`` (default: the run's).
Output: the order-up-to level (the service level's quantile of demand over lead time + review period,
as in the run's simulation, :mod:`.policy`), the order quantity that raises the inventory position to it,
the lead-time demand forecast and safety stock, and the daily median forecast over those days.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lepton_core import DataError, DeployContext
from lepton_core.forecasting import ForecastPredictor, GlobalForecaster, SeriesHistory
from lepton_manufacturing.inventory.policy import network_lead_time_demand, z_value

__all__ = ["InventoryPredictor", "OrderRecommendation", "PartPosition"]

MAX_HISTORY = 5000


class PartPosition(BaseModel):
    """One part: its recent daily demand and its stock position."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=100)
    last_date: str = Field(min_length=8, max_length=40, description="date of the last demand value, YYYY-MM-DD")
    demand: list[Annotated[float, Field(ge=0, le=1e9)]] = Field(
        min_length=1, max_length=MAX_HISTORY, description="daily demand, oldest first (CSV: numbers separated by spaces)"
    )
    on_hand: float = Field(ge=-1e9, le=1e9, description="stock on hand now (negative: backorders)")
    on_order: float = Field(0.0, ge=0, le=1e9, description="ordered and not yet received")
    lead_time: int | None = Field(None, ge=0, le=365, description="days from order to receipt (default: the SKU's)")
    service_level: float | None = Field(None, ge=0.5, lt=1.0, description="target service level (default: the run's)")

    @field_validator("demand", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return [float(part) for part in value.replace(",", " ").replace(";", " ").split()]
            except ValueError:
                raise ValueError("demand must be numbers: a list, or separated by spaces in a CSV cell") from None
        return value


class OrderRecommendation(BaseModel):
    """The replenishment decision for one part."""

    sku: str
    order_quantity: float
    order_up_to: float
    inventory_position: float
    lead_time_demand: float
    safety_stock: float
    lead_time: int
    review_period: int
    service_level: float
    forecast_start: str
    forecast: list[float]


class InventoryPredictor(ForecastPredictor):
    """Forecast each part's next days with the network, then apply the run's order-up-to policy."""

    input_model = PartPosition
    output_model = OrderRecommendation
    input_kind = "table"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module, state)
        policy = dict(state["policy"])
        self.review_period = int(policy["review_period"])
        self.max_lead_time = int(policy["max_lead_time"])
        self.service_level = float(policy["service_level"])
        self.correlation = float(policy["correlation"])
        self.default_lead_time = int(policy["default_lead_time"])
        self.lead_times = {str(k): int(v) for k, v in dict(policy["lead_times"]).items()}

    @classmethod
    def from_context(cls, ctx: DeployContext) -> InventoryPredictor:
        """Rebuild the forecaster from the bundle's model arguments and state."""
        return cls(ctx.build_model(GlobalForecaster), dict(ctx.state))

    def _lead_time(self, item: PartPosition, index: int) -> int:
        lead = item.lead_time if item.lead_time is not None else self.lead_times.get(item.sku, self.default_lead_time)
        if lead > self.max_lead_time:
            raise DataError(
                f"input item {index}: lead_time {lead} days is beyond what the bundle forecasts (at most {self.max_lead_time})",
                "send a shorter lead time, or retrain with a larger task.max_lead_time",
            )
        return lead

    def _history(self, item: PartPosition, index: int) -> SeriesHistory:
        last = pd.to_datetime(item.last_date, errors="coerce")
        if pd.isna(last):
            raise DataError(f"input item {index}: last_date {item.last_date!r} is not a date", "write it as YYYY-MM-DD")
        demand = item.demand[-self.input_size :]
        stamps = pd.date_range(end=last, periods=len(demand), freq=self.freq)
        return SeriesHistory(unique_id=item.sku, ds=[t.isoformat() for t in stamps], y=demand)

    def preprocess(self, items: Sequence[PartPosition]) -> tuple[torch.Tensor, ...]:
        for index, item in enumerate(items):
            self._lead_time(item, index)
        return super().preprocess([self._history(item, index) for index, item in enumerate(items)])

    def postprocess(self, outputs: Any, items: Sequence[PartPosition]) -> list[dict[str, Any]]:
        quantiles = torch.as_tensor(outputs).double().cpu().numpy()
        results = []
        for index, item in enumerate(items):
            lead = self._lead_time(item, index)
            level = item.service_level if item.service_level is not None else self.service_level
            cover = lead + self.review_period
            mean, sigma = network_lead_time_demand(quantiles[index : index + 1], self.levels, np.array([cover]), self.correlation)
            safety = float(z_value(level) * sigma[0])
            order_up_to = float(mean[0]) + safety
            position = item.on_hand + item.on_order
            start = pd.to_datetime(item.last_date) + pd.tseries.frequencies.to_offset(self.freq)
            results.append(
                {
                    "sku": item.sku,
                    "order_quantity": max(0.0, order_up_to - position),
                    "order_up_to": order_up_to,
                    "inventory_position": position,
                    "lead_time_demand": float(mean[0]),
                    "safety_stock": safety,
                    "lead_time": lead,
                    "review_period": self.review_period,
                    "service_level": level,
                    "forecast_start": str(start.date()),
                    "forecast": [float(v) for v in quantiles[index, :cover, self.median_index]],
                }
            )
        return results
