"""Customer predictor: one customer's purchase history in -> churn probability, expected CLV and RFM segment out.

Input item: ``customer_id`` (echoed), ``as_of`` (the last day of the history: what "now" is), ``dates`` and
``amounts`` of the purchases (any order; same-day purchases are summed) and, when the bundle was trained
with categories, optionally ``categories``. Output: ``churn_probability`` (no purchase in the next
``horizon_days``), ``expected_clv`` (spend over them), the RFM scores and segment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lepton_core import Export, RunContext
from lepton_core.deploy.predictor import Predictor
from lepton_core.hooks.specs import DeployContext
from lepton_retail.customers.data import EPOCH
from lepton_retail.customers.features import (
    Normaliser,
    daily_purchases,
    encode_customers,
    rfm_scores,
    rfm_segments,
)
from lepton_retail.customers.model import CustomerSequenceModel

__all__ = ["CustomerForecast", "CustomerHistory", "CustomerPredictor", "export_customers"]

MAX_PURCHASES = 5000


def _day(value: str) -> int:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int((stamp.normalize() - EPOCH) // pd.Timedelta(days=1))


class CustomerHistory(BaseModel):
    """One customer's purchases up to ``as_of``."""

    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=200)
    as_of: str = Field(min_length=8, max_length=40, description="last day of the history, YYYY-MM-DD")
    dates: list[str] = Field(min_length=1, max_length=MAX_PURCHASES)
    amounts: list[float] = Field(min_length=1, max_length=MAX_PURCHASES)
    categories: list[str] | None = Field(default=None, max_length=MAX_PURCHASES)

    @field_validator("amounts")
    @classmethod
    def _non_negative(cls, values: list[float]) -> list[float]:
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError("every amount must be a finite number >= 0 (leave refunds out)")
        return values

    @model_validator(mode="after")
    def _aligned(self) -> CustomerHistory:
        if len(self.amounts) != len(self.dates) or (self.categories is not None and len(self.categories) != len(self.dates)):
            raise ValueError("dates, amounts (and categories) need one value per purchase")
        try:
            days, as_of = [_day(d) for d in self.dates], _day(self.as_of)
        except (ValueError, TypeError, OverflowError):
            raise ValueError("as_of and dates must be dates like YYYY-MM-DD") from None
        if max(days) > as_of:
            raise ValueError(f"a purchase is dated after as_of ({self.as_of})")
        return self


class CustomerForecast(BaseModel):
    """What the next ``horizon_days`` hold for one customer, and where the customer stands today."""

    customer_id: str
    churn_probability: float
    expected_clv: float
    horizon_days: int
    segment: str
    recency_score: int
    frequency_score: int
    monetary_score: int


class CustomerPredictor(Predictor):
    """Encode each history like the training customers, run the sequence model, score RFM on training quintiles."""

    input_model = CustomerHistory
    output_model = CustomerForecast
    input_kind = "json"

    def __init__(self, module: torch.nn.Module, state: dict[str, Any]) -> None:
        super().__init__(module)
        self.normaliser = Normaliser.from_state(state["normaliser"])
        self.max_events, self.horizon_days = int(state["max_events"]), int(state["holdout_days"])
        categories = list(state["categories"])
        self.category_index = {c: i + 1 for i, c in enumerate(categories)} if categories else None
        self.rfm_edges = {k: [float(v) for v in values] for k, values in state["rfm_edges"].items()}

    @classmethod
    def from_context(cls, ctx: DeployContext) -> CustomerPredictor:
        """Rebuild the sequence model from the bundle's model arguments and the encoding from its state."""
        return cls(ctx.build_model(CustomerSequenceModel), dict(ctx.state))

    def _encode(self, items: Sequence[CustomerHistory]) -> Any:
        frame = pd.DataFrame(
            {
                "customer": np.repeat(np.arange(len(items)), [len(item.dates) for item in items]),
                "day": [_day(d) for item in items for d in item.dates],
                "amount": [a for item in items for a in item.amounts],
            }
        )
        if self.category_index is not None:
            frame["category"] = [c for item in items for c in (item.categories or [""] * len(item.dates))]
        as_of = np.asarray([_day(item.as_of) for item in items])
        return encode_customers(daily_purchases(frame), as_of, self.max_events, self.category_index)

    def preprocess(self, items: Sequence[CustomerHistory]) -> tuple[torch.Tensor, ...]:
        arrays = self._encode(items)
        events, statics = self.normaliser.apply(arrays)
        return torch.from_numpy(events), torch.from_numpy(arrays.categories), torch.from_numpy(statics)

    def postprocess(self, outputs: Any, items: Sequence[CustomerHistory]) -> list[dict[str, Any]]:
        values = torch.as_tensor(outputs).double().cpu().numpy()
        scores = rfm_scores(self._encode(items).summary, self.rfm_edges)
        segments = rfm_segments(scores)
        return [
            {
                "customer_id": item.customer_id,
                "churn_probability": float(value[0]),
                "expected_clv": float(value[1]),
                "horizon_days": self.horizon_days,
                "segment": str(segment),
                "recency_score": int(score.r),
                "frequency_score": int(score.f),
                "monetary_score": int(score.m),
            }
            for item, value, segment, score in zip(items, values, segments, scores.itertuples())
        ]


def export_customers(ctx: RunContext, datamodule: Any, model: Any) -> Export:
    """The sequence model, the encoding state (plain JSON) and three test customers' histories as the example."""
    state = {
        "normaliser": datamodule.normaliser.to_state(),
        "max_events": datamodule.max_events,
        "holdout_days": datamodule.holdout_days,
        "categories": list(datamodule.categories),
        "rfm_edges": datamodule.rfm_edges,
    }
    purchases = datamodule.arrays.summary["purchases"].to_numpy()
    short = [int(i) for i in datamodule.test_index if purchases[i] <= 40][:3]
    return Export(module=model, state=state, input_example=[datamodule.history_of(i) for i in short])
