"""order_tracking predictor: one live order's status events in -> P10/P50/P90 hours to delivery and ETAs out.

Input item (``lepton serve``): ``{<order column>: id, "rows": [{<time column>, <status column>}, ...], "as_of":
optional now}`` plus the order columns the bundle was trained with (at the top level, or on the events: the
last value given wins). ``lepton predict`` reads an events table and groups its rows by the order column
(``input_kind = "groups"``), so each order of the table is one item. Events may come in any order; sorted by
time they must be a possible history. "Now" is ``as_of`` when given, else the last event's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
import torch
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    create_model,
    model_validator,
)

from lepton_core.deploy.predictor import Predictor
from lepton_core.hooks.specs import DeployContext
from lepton_core.tabular import TabularPreprocessor
from lepton_core.tabular.predictor import CategoryValue, NumericValue
from lepton_logistics.tracking.events import (
    ALLOWED,
    DELIVERED,
    STATUS_INDEX,
    STATUSES,
    lifecycle_problem,
    normalise_status,
)
from lepton_logistics.tracking.features import encode_prefixes
from lepton_logistics.tracking.model import RemainingTimeModel

MAX_EVENTS = 500
STAMP = "%Y-%m-%d %H:%M:%S"
AS_OF = "as_of"
Stamp = Annotated[str, StringConstraints(min_length=1, max_length=64)] | datetime
EARLIEST, LATEST = pd.Timestamp("1970-01-01"), pd.Timestamp("2200-01-01")


class RemainingTime(BaseModel):
    """Hours from ``as_of`` to delivery (quantiles) and the matching delivery times."""

    order_id: str | int
    status: str = Field(description="status at as_of (the last event)")
    as_of: str
    remaining_hours_p10: float
    remaining_hours_p50: float
    remaining_hours_p90: float
    eta_p50: str = Field(description="as_of + P50, YYYY-MM-DD HH:MM:SS")
    eta_p90: str = Field(description="as_of + P90: delivered by then 90% of the time")


def _seconds(text: Stamp, what: str) -> int:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"{what} {text!r} is not a timestamp like 2025-03-04 14:30") from None
    if pd.isna(stamp):
        raise ValueError(f"{what} is empty")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if not EARLIEST <= stamp < LATEST:
        raise ValueError(f"{what} {text!s} is outside 1970-2199")
    return int(stamp.value // 1_000_000_000)


class LiveOrderBase(BaseModel):
    """Checks shared by every bundle's order schema: known statuses, parseable times, a possible history."""

    model_config = ConfigDict(extra="forbid")
    _codes: np.ndarray = PrivateAttr()
    _stamps: np.ndarray = PrivateAttr()
    _now: int = PrivateAttr()

    @model_validator(mode="after")
    def _history(self) -> LiveOrderBase:
        statuses = [normalise_status(row.status_value) for row in self.rows]
        unknown = [s for s in statuses if s not in STATUS_INDEX]
        if unknown:
            raise ValueError(f"unknown status {unknown[0]!r}; allowed: {ALLOWED}")
        stamps = np.array([_seconds(row.timestamp_value, f"event {i + 1} timestamp") for i, row in enumerate(self.rows)])
        order = np.argsort(stamps, kind="stable")
        sorted_statuses = [statuses[i] for i in order]
        problem = lifecycle_problem(sorted_statuses)
        if problem:
            raise ValueError(f"the order {problem}")
        now = _seconds(self.as_of, "as_of") if self.as_of else int(stamps[order[-1]])
        if now < stamps[order[-1]]:
            raise ValueError(f"as_of {self.as_of} is before the last event")
        self._codes = np.array([STATUS_INDEX[s] for s in sorted_statuses], np.int64)
        self._stamps, self._now = stamps[order], now
        return self


def live_order_model(order_column: str, time_column: str, status_column: str,
                     preprocessor: TabularPreprocessor | None, example: dict[str, Any] | None) -> type[BaseModel]:
    """One bundle's input schema: the order id, its events, an optional as_of and the trained order columns."""
    columns = list(preprocessor.columns) if preprocessor else []
    attributes = {
        f"column_{i}": (NumericValue if c in preprocessor.numeric else CategoryValue,
                        Field(None, alias=c, description=f"order column '{c}' (null = unknown)"))
        for i, c in enumerate(columns)
    } if preprocessor else {}
    event = create_model(
        "StatusEvent", __config__=ConfigDict(extra="forbid"),
        timestamp_value=(Stamp, Field(alias=time_column, description="event time, e.g. 2025-03-04 14:30")),
        status_value=(str, Field(alias=status_column, min_length=1, max_length=64, description=f"one of {ALLOWED}")),
        **attributes,
    )

    def hoist(cls: type[BaseModel], data: Any) -> Any:
        """Order columns (and as_of) given on the events (a table's rows) move to the order; the last value given wins."""
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            return data
        data = dict(data)
        for column in [*columns, AS_OF]:
            if data.get(column) is None:
                values = [r.get(column) for r in data["rows"] if isinstance(r, dict) and r.get(column) is not None]
                data[column] = values[-1] if values else None
        data["rows"] = [{k: v for k, v in r.items() if k != AS_OF} if isinstance(r, dict) else r for r in data["rows"]]
        return data

    config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example]} if example else None)
    base = type("LiveOrderSchema", (LiveOrderBase,), {"model_config": config, "__module__": __name__})
    return create_model(
        "LiveOrder", __base__=base,
        __validators__={"_hoist": model_validator(mode="before")(classmethod(hoist))},
        order_value=(Annotated[str, StringConstraints(min_length=1, max_length=200)] | int, Field(alias=order_column, description="order id, echoed back")),
        rows=(list[event], Field(min_length=1, max_length=MAX_EVENTS, description="the order's status events so far")),
        as_of=(Stamp | None, Field(None, description="now (default: the last event's time)")),
        **attributes,
    )


class OrderTrackingPredictor(Predictor):
    """Sort and encode each order's events like the training prefixes, run the sequence model, add ETAs."""

    output_model = RemainingTime
    input_kind = "groups"

    def __init__(self, module: torch.nn.Module, preprocessor: TabularPreprocessor | None, max_events: int) -> None:
        super().__init__(module)
        self.preprocessor, self.max_events = preprocessor, int(max_events)

    @classmethod
    def from_context(cls, ctx: DeployContext) -> OrderTrackingPredictor:
        """Rebuild the network from the bundle's model arguments, the schema and encoding from its state."""
        state = dict(ctx.state)
        preprocessor = TabularPreprocessor.from_state(state["preprocessor"]) if state.get("preprocessor") else None
        example = (ctx.manifest.get("input_example") or [None])[0]
        input_model = live_order_model(state["order_column"], state["time_column"], state["status_column"], preprocessor, example)
        bound = type(cls.__name__, (cls,), {"input_model": input_model, "group_field": state["order_column"],
                                            "__module__": cls.__module__})
        return bound(ctx.build_model(RemainingTimeModel), preprocessor, state["max_events"])

    def preprocess(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """(seq_status, seq_num, length, now_num, x_num, x_cat) of each order at its now."""
        n = len(items)
        prefixes = encode_prefixes([i._codes for i in items], [i._stamps for i in items], np.arange(n),
                                   np.array([len(i._codes) - 1 for i in items]), np.array([i._now for i in items]),
                                   self.max_events)
        if self.preprocessor is not None:
            frame = pd.DataFrame({c: [getattr(i, f"column_{k}") for i in items] for k, c in enumerate(self.preprocessor.columns)})
            x_num, x_cat = self.preprocessor.transform_arrays(frame)
        else:
            x_num, x_cat = np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        return tuple(torch.from_numpy(a) for a in (prefixes.seq_status, prefixes.seq_num, prefixes.length, prefixes.now_num,
                                                    x_num, np.hstack([prefixes.clock, x_cat])))

    def postprocess(self, outputs: Any, items: Sequence[Any]) -> list[dict[str, Any]]:
        """Hours and ETAs per order; an order already delivered gets 0 hours and its delivery time."""
        values = torch.as_tensor(outputs).double().numpy()
        results = []
        for item, (p10, p50, p90) in zip(items, values):
            status = STATUSES[item._codes[-1] - 1]
            if status == DELIVERED:
                p10 = p50 = p90 = 0.0
            now = pd.Timestamp(item._now, unit="s")
            results.append({
                "order_id": item.order_value, "status": status, "as_of": f"{now:{STAMP}}",
                "remaining_hours_p10": round(float(p10), 3), "remaining_hours_p50": round(float(p50), 3),
                "remaining_hours_p90": round(float(p90), 3),
                "eta_p50": f"{now + pd.Timedelta(hours=float(p50)):{STAMP}}",
                "eta_p90": f"{now + pd.Timedelta(hours=float(p90)):{STAMP}}",
            })
        return results
