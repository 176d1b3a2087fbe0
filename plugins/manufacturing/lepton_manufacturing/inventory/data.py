"""Demand of parts (long table ``sku, date, demand``, CSV or Parquet) and their inventory parameters, split for a
replenishment simulation.

The demand table goes through the forecasting core (:class:`lepton_core.forecasting.ForecastDataModule`:
duplicates, non-numeric values, dates, the regular grid, short series); demand must also be non-negative.
The optional parameters table (``parameters_path``) has one row per SKU: ``sku`` (the demand table's id
column) and any of ``lead_time`` (whole days, 0..``max_lead_time``), ``holding_cost`` (per unit per day),
``stockout_cost`` (per unit short) and ``order_cost`` (per order); a missing column or an empty cell takes
``defaults``, and so does a SKU without a row.

The forecast horizon is ``max_lead_time + review_period`` (an order placed at a review must cover demand
until the next order arrives). The last ``test_days`` days (at least one horizon) are the simulation
period: reviews every ``review_period`` days, each a forecast origin of the core's rolling-origin backtest;
the network trains on the days before, its validation windows end where the simulation starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lepton_core.errors import ConfigError, DataError
from lepton_core.forecasting import ForecastDataModule, read_table

__all__ = ["PARAMETERS", "InventoryDataModule"]

PARAMETERS = ("lead_time", "holding_cost", "stockout_cost", "order_cost")
DEFAULTS = {"lead_time": 7, "holding_cost": 0.05, "stockout_cost": 5.0, "order_cost": 20.0}


class InventoryDataModule(ForecastDataModule):
    """Part demand and SKU parameters; after ``setup()`` also ``parameters`` (one row per series, in series order)."""

    def __init__(
        self,
        input_size: int = 56,
        review_period: int = 7,
        max_lead_time: int = 14,
        test_days: int = 91,
        path: str | None = None,
        parameters_path: str | None = None,
        demo: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        demo_parameters: Callable[[Sequence[str]], pd.DataFrame] | None = None,
        defaults: Mapping[str, float] | None = None,
        id_col: str = "sku",
        time_col: str = "date",
        target_col: str = "demand",
        freq: str | None = None,
        missing: str = "zero",
        short_series: str = "error",
        batch_size: int = 256,
        max_train_windows: int | None = None,
        min_steps_per_epoch: int = 50,
        seed: int = 0,
    ) -> None:
        if int(review_period) < 1 or int(max_lead_time) < 0:
            raise ConfigError(
                f"review_period={review_period} and max_lead_time={max_lead_time} must be >= 1 and >= 0",
                "set task.review_period (days between orders) and task.max_lead_time (days)",
            )
        horizon = int(max_lead_time) + int(review_period)
        if int(test_days) < horizon:
            raise ConfigError(
                f"data.test_days={test_days} is shorter than one forecast horizon ({horizon} days)",
                f"set data.test_days to {horizon} or more",
            )
        reviews = math.ceil((int(test_days) - horizon) / int(review_period)) + 1
        super().__init__(
            horizon=horizon, input_size=input_size, path=path, demo=demo, id_col=id_col, time_col=time_col,
            target_col=target_col, freq=freq, missing=missing, short_series=short_series, backtest_windows=reviews,
            backtest_step=review_period, batch_size=batch_size, max_train_windows=max_train_windows,
            min_steps_per_epoch=min_steps_per_epoch, seed=seed,
        )
        self.review_period, self.max_lead_time = int(review_period), int(max_lead_time)
        self.parameters_path, self.demo_parameters = parameters_path, demo_parameters
        unknown = sorted(set(defaults or {}) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f"data.defaults has unknown key(s) {unknown}", f"use {', '.join(PARAMETERS)}")
        self.defaults = {**DEFAULTS, **dict(defaults or {})}
        self.parameters: pd.DataFrame | None = None
        self.defaulted: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        """Load and validate demand (through the forecasting core) and the SKU parameters."""
        if self.series is not None:
            return
        super().setup(stage)
        for sku, values in zip(self.series.ids, self.series.values):
            if (values < 0).any():
                raise DataError(
                    f"SKU '{sku}' has {int((values < 0).sum())} negative demand values (e.g. {values[values < 0][0]:g})",
                    "demand is units consumed per day: record returns elsewhere, or clip them to 0",
                )
        self.parameters = self._load_parameters()

    def simulation_start(self, index: int) -> int:
        """Index of the first simulated day of series ``index`` (its first test origin)."""
        return int(self.test_origins[index][-1])

    def review_origins(self) -> list[np.ndarray]:
        """Per series, the review days of the simulation period (forecast origins), every ``review_period`` days."""
        return [np.arange(self.simulation_start(i), len(y), self.review_period) for i, y in enumerate(self.series.values)]

    # --------------------------------------------------------------------------------- parameters

    def _raw_parameters(self) -> pd.DataFrame | None:
        if self.parameters_path is not None:
            return read_table(self.parameters_path)
        if self.path is None and self.demo_parameters is not None:
            return self.demo_parameters(self.series.ids)
        return None

    def _load_parameters(self) -> pd.DataFrame:
        ids = list(self.series.ids)
        table = pd.DataFrame({name: [self.defaults[name]] * len(ids) for name in PARAMETERS}, index=ids, dtype=float)
        raw = self._raw_parameters()
        self.defaulted = ids
        if raw is None:
            return self._check_ranges(table)
        where = self.parameters_path or "the demo parameters"
        if self.id_col not in raw.columns:
            raise DataError(
                f"the parameters table {where} has no '{self.id_col}' column (found: {', '.join(map(str, raw.columns[:8]))})",
                f"name the SKU column '{self.id_col}' as in the demand table",
            )
        extra = [c for c in raw.columns if c != self.id_col and c not in PARAMETERS]
        if extra:
            raise DataError(
                f"the parameters table has unknown column(s) {', '.join(map(str, extra))}",
                f"keep {self.id_col} and any of {', '.join(PARAMETERS)}",
            )
        skus = raw[self.id_col].astype(str)
        if skus.duplicated().any():
            raise DataError(f"the parameters table lists SKU '{skus[skus.duplicated()].iloc[0]}' twice", "keep one row per SKU")
        unknown = sorted(set(skus) - set(ids))
        if unknown:
            raise DataError(
                f"the parameters table names {len(unknown)} SKU(s) not in the demand table, e.g. '{unknown[0]}'",
                "drop those rows or fix the SKU names so they match the demand table",
            )
        for name in PARAMETERS:
            if name not in raw.columns:
                continue
            values = pd.to_numeric(raw[name], errors="coerce")
            bad = values.isna() & raw[name].notna()
            if bad.any():
                raise DataError(
                    f"parameters column '{name}' is not numeric (e.g. {raw[name][bad].iloc[0]!r} for SKU '{skus[bad].iloc[0]}')",
                    "write numbers (or leave the cell empty for the default)",
                )
            given = values.notna().to_numpy()
            table.loc[skus[given].to_numpy(), name] = values[given].to_numpy(dtype=float)
        self.defaulted = sorted(set(ids) - set(skus))
        return self._check_ranges(table)

    def _check_ranges(self, table: pd.DataFrame) -> pd.DataFrame:
        lead = table["lead_time"]
        bad = (lead < 0) | (lead > self.max_lead_time) | (lead != lead.round()) | ~np.isfinite(lead)
        if bad.any():
            sku = lead.index[bad.to_numpy()][0]
            raise DataError(
                f"lead_time of SKU '{sku}' is {lead[sku]:g} days, out of range (whole days 0..{self.max_lead_time})",
                "fix the parameters table, or raise task.max_lead_time (it sets the forecast horizon)",
            )
        for name in PARAMETERS[1:]:
            column = table[name]
            wrong = (column < 0) | ~np.isfinite(column)
            if wrong.any():
                sku = column.index[wrong.to_numpy()][0]
                raise DataError(f"{name} of SKU '{sku}' is {column[sku]:g}", f"{name} must be a finite number >= 0")
        table["lead_time"] = table["lead_time"].astype(int)
        return table

    # --------------------------------------------------------------------------------- contract helpers

    def summary(self) -> dict[str, Any]:
        """Series, window and parameter counts for the report."""
        lead = self.parameters["lead_time"]
        return {
            **super().summary(),
            "review period (days)": self.review_period,
            "lead times (days)": f"{int(lead.min())}..{int(lead.max())}",
            "SKUs on default parameters": len(self.defaulted),
            "simulated days per SKU": int(len(self.series.values[0]) - self.simulation_start(0)),
        }

    def input_example(self, count: int = 2) -> list[dict[str, Any]]:
        """Made-up positions (the core's seasonal-profile histories, never a real series) in the predictor's format."""
        items = []
        for index, history in enumerate(super().input_example(count)):
            lead = int(self.parameters["lead_time"].iloc[index])
            rate = float(np.mean(history["y"]))
            items.append(
                {
                    "sku": history["unique_id"],
                    "last_date": history["ds"][-1],
                    "demand": [round(v, 3) for v in history["y"]],
                    "on_hand": round(rate * lead, 1),
                    "on_order": round(rate * self.review_period, 1),
                    "lead_time": lead,
                }
            )
        return items
