"""Transaction logs ``customer, date, amount[, category]``: reading, validation, calibration / holdout split.

Columns are found by name (``customer_id``/``Customer ID``/``user_id``..., ``date``/``InvoiceDate``/
``timestamp``..., ``amount``/``revenue``/``sales``..., optional ``category``) or set with ``data.customer_col``,
``data.date_col``, ``data.amount_col``, ``data.category_col``. Without an amount column, ``quantity x price``
columns (Online Retail II: ``Quantity``, ``Price``) give it.

Rules: a missing column, an empty customer id, an unparseable date and a non-numeric amount are DataErrors.
A negative amount (a refund or a cancellation) is an error unless ``data.negative_amounts=drop``, which
leaves those rows out: CLV here is gross spend. Days before and on ``data.cutoff`` are the calibration
period (what every model sees); the next ``data.holdout_days`` days are the holdout period, whose
outcome is the target: ``churn`` = no purchase in it, ``clv`` = the spend in it. Every customer with a
purchase in the calibration period counts; customers are split at random into train / val / test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import ConfigError, DataError
from lepton_retail.customers.features import (
    EVENT_FEATURES,
    STATIC_FEATURES,
    CustomerArrays,
    Normaliser,
    daily_purchases,
    encode_customers,
    rfm_edges,
)

__all__ = ["CustomerDataModule", "normalise_transactions"]

NAMES = {
    "customer": ("customer_id", "customer", "customerid", "customer id", "cust_id", "user_id", "client_id", "member_id", "household_key"),
    "date": ("date", "invoicedate", "invoice_date", "order_date", "transaction_date", "timestamp", "datetime", "time", "t_dat"),
    "amount": ("amount", "revenue", "sales", "spend", "value", "total", "order_value", "monetary"),
    "category": ("category", "product_category", "department", "category_name"),
    "quantity": ("quantity", "qty", "units"),
    "price": ("price", "unit_price", "unitprice"),
}
NEGATIVE_POLICIES = ("error", "drop")
EPOCH = pd.Timestamp("1970-01-01")


def _find(frame: pd.DataFrame, role: str, given: str | None) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise DataError(f"column '{given}' (data.{role}_col) not found in {list(frame.columns)[:8]}", f"set data.{role}_col to one of them")
        return given
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    return next((lowered[name] for name in NAMES[role] if name in lowered), None)


def _require(frame: pd.DataFrame, role: str, given: str | None) -> str:
    column = _find(frame, role, given)
    if column is None:
        raise DataError(
            f"no {role} column (looked for {', '.join(NAMES[role][:4])}...; found {', '.join(map(str, frame.columns[:8]))})",
            f"rename it or set data.{role}_col",
        )
    return column


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0))
    if bad.any():
        examples = ", ".join(repr(v) for v in frame[column][bad].astype(str).unique()[:3])
        raise DataError(f"column '{column}' is not numeric ({int(bad.sum())} rows like {examples})", "clean the column or set data.amount_col")
    return values.astype(float)


def _days(values: pd.Series, column: str) -> np.ndarray:
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
        raise DataError(f"column '{column}' has {int(bad.sum())} unparseable dates like {examples}", "write dates as YYYY-MM-DD (or an ISO timestamp)")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return ((parsed.dt.normalize() - EPOCH) // pd.Timedelta(days=1)).to_numpy(np.int64)


def normalise_transactions(
    frame: pd.DataFrame,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    category_col: str | None = None,
    negative_amounts: str = "error",
) -> tuple[pd.DataFrame, int]:
    """Columns ``customer_id`` (str), ``day`` (days since 1970), ``amount`` (>= 0)[, ``category``]; and the rows dropped."""
    if negative_amounts not in NEGATIVE_POLICIES:
        raise ConfigError(f"data.negative_amounts={negative_amounts!r} is not one of {', '.join(NEGATIVE_POLICIES)}", "set data.negative_amounts=error or drop")
    customer = _require(frame, "customer", customer_col)
    date = _require(frame, "date", date_col)
    amount_column = _find(frame, "amount", amount_col)
    if amount_column is None:
        quantity, price = _find(frame, "quantity", None), _find(frame, "price", None)
        if quantity is None or price is None:
            _require(frame, "amount", amount_col)
        amount = _numbers(frame, quantity) * _numbers(frame, price)
        amount_column = f"{quantity} x {price}"
    else:
        amount = _numbers(frame, amount_column)
    empty = frame[customer].isna() | (frame[customer].astype(str).str.strip() == "")
    if empty.any():
        raise DataError(f"{int(empty.sum())} transactions have an empty customer id (column '{customer}')", "drop those rows (guest orders) or fill them")
    out = pd.DataFrame({"customer_id": frame[customer].astype(str).str.strip(), "day": _days(frame[date], date), "amount": amount.to_numpy()})
    category = _find(frame, "category", category_col)
    if category is not None:
        out["category"] = frame[category].fillna("").astype(str).to_numpy()
    negative = out["amount"] < 0
    if negative.any() and negative_amounts == "error":
        example = out.loc[negative].iloc[0]
        raise DataError(
            f"{int(negative.sum())} transactions have a negative amount (column '{amount_column}', e.g. {example['amount']:g} for customer {example['customer_id']})",
            "refunds are not purchases: remove them, or set data.negative_amounts=drop to leave them out",
        )
    return out.loc[~negative].reset_index(drop=True), int(negative.sum())


def _date(day: int) -> str:
    return (EPOCH + pd.Timedelta(days=int(day))).strftime("%Y-%m-%d")


class CustomerDataModule(L.LightningDataModule):
    """A transaction log from ``path`` or ``demo``, cut at ``cutoff`` into calibration and holdout periods.

    After ``setup()``: ``customer_ids``, ``train_index`` / ``val_index`` / ``test_index`` (customer positions),
    ``churn`` / ``clv`` (holdout targets), ``arrays`` (encoded calibration histories), ``rfm_edges``
    (quintiles of the training customers), ``purchases`` (daily calibration purchases by customer index).
    """

    def __init__(
        self,
        path: str | None = None,
        demo: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        customer_col: str | None = None,
        date_col: str | None = None,
        amount_col: str | None = None,
        category_col: str | None = None,
        negative_amounts: str = "error",
        cutoff: str | None = None,
        holdout_days: int = 182,
        max_events: int = 64,
        val_fraction: float = 0.2,
        test_fraction: float = 0.2,
        min_customers: int = 50,
        batch_size: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if path is None and demo is None:
            raise ConfigError("no data: data.path is null and the task has no demo data", "set data.path=FILE")
        if int(holdout_days) < 1 or int(max_events) < 1:
            raise ConfigError(f"data.holdout_days={holdout_days} and data.max_events={max_events} must be positive", "set both to 1 or more")
        if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
            raise ConfigError(f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} must be in (0, 1) and sum below 1", "use e.g. 0.2 and 0.2")
        self.path, self.demo = path, demo
        self.columns = {"customer_col": customer_col, "date_col": date_col, "amount_col": amount_col, "category_col": category_col}
        self.negative_amounts, self.cutoff = negative_amounts, cutoff
        self.holdout_days, self.max_events = int(holdout_days), int(max_events)
        self.val_fraction, self.test_fraction = float(val_fraction), float(test_fraction)
        self.min_customers, self.batch_size, self.seed = int(min_customers), int(batch_size), int(seed)
        self.customer_ids: np.ndarray | None = None

    def load_frame(self) -> pd.DataFrame:
        """The raw transaction log (file, or the demo data)."""
        if self.path is not None:
            from lepton_core.tabular.io import read_table

            return read_table(self.path)
        return self.demo() if callable(self.demo) else self.demo

    def _cutoff_day(self, first: int, last: int) -> int:
        span = f"the transactions run from {_date(first)} to {_date(last)}"
        if self.cutoff is None:
            cutoff = last - self.holdout_days
            if cutoff <= first:
                raise DataError(f"{span}: too short for a {self.holdout_days}-day holdout after a calibration period", "lower data.holdout_days or provide a longer history")
            return cutoff
        try:
            cutoff = int((pd.Timestamp(str(self.cutoff)).normalize() - EPOCH) // pd.Timedelta(days=1))
        except (ValueError, TypeError):
            raise ConfigError(f"data.cutoff={self.cutoff!r} is not a date", "write it as YYYY-MM-DD, or null for the last date minus data.holdout_days") from None
        if cutoff <= first or cutoff + self.holdout_days > last:
            raise DataError(
                f"data.cutoff={_date(cutoff)} with a {self.holdout_days}-day holdout does not fit: {span}",
                f"choose a cut-off between {_date(first + 1)} and {_date(last - self.holdout_days)}, or lower data.holdout_days",
            )
        return cutoff

    def setup(self, stage: str | None = None) -> None:
        """Read, validate, cut, encode and split."""
        if self.customer_ids is not None:
            return
        frame, self.dropped_negative = normalise_transactions(self.load_frame(), negative_amounts=self.negative_amounts, **self.columns)
        if frame.empty:
            raise DataError("no transactions left after leaving out negative amounts", "provide purchases with amounts of 0 or more")
        self.transactions = len(frame)
        first, last = int(frame["day"].min()), int(frame["day"].max())
        self.cutoff_day = self._cutoff_day(first, last)
        calibration = frame[frame["day"] <= self.cutoff_day]
        holdout = frame[(frame["day"] > self.cutoff_day) & (frame["day"] <= self.cutoff_day + self.holdout_days)]
        self.customer_ids, index = np.unique(calibration["customer_id"].to_numpy(), return_inverse=True)
        n = len(self.customer_ids)
        if n < self.min_customers:
            raise DataError(
                f"only {n} customers bought before the cut-off {_date(self.cutoff_day)} (need {self.min_customers})",
                "provide a longer or larger transaction log, move data.cutoff later, or lower data.min_customers",
            )
        self.categories = sorted(set(calibration["category"])) if "category" in calibration else []
        self.category_index = {c: i + 1 for i, c in enumerate(self.categories)} if self.categories else None
        self.purchases = daily_purchases(calibration.assign(customer=index).drop(columns="customer_id"))
        self.arrays: CustomerArrays = encode_customers(self.purchases, self.cutoff_day, self.max_events, self.category_index)
        spend = holdout.groupby("customer_id")["amount"].sum()
        self.clv = spend.reindex(self.customer_ids, fill_value=0.0).to_numpy(np.float64)
        bought = holdout.groupby("customer_id").size().reindex(self.customer_ids, fill_value=0).to_numpy()
        self.churn = (bought == 0).astype(np.float64)
        order = np.random.default_rng(self.seed).permutation(n)
        n_test, n_val = max(round(self.test_fraction * n), 1), max(round(self.val_fraction * n), 1)
        self.test_index, self.val_index, self.train_index = (np.sort(a) for a in (order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]))
        for name, chosen in (("test", self.test_index), ("training", self.train_index)):
            if len(np.unique(self.churn[chosen])) < 2:
                what = "churned" if self.churn[chosen].all() else "bought again"
                raise DataError(
                    f"every {name} customer {what} in the {self.holdout_days}-day holdout: churn cannot be learned or scored",
                    "move data.cutoff or change data.holdout_days so that some customers buy again and some do not",
                )
        train_arrays = CustomerArrays(self.arrays.events[self.train_index], self.arrays.categories[self.train_index],
                                      self.arrays.statics[self.train_index], self.arrays.summary.iloc[self.train_index])
        self.normaliser = Normaliser.fit(train_arrays)
        self.rfm_edges = rfm_edges(train_arrays.summary)
        positive = self.clv[self.train_index][self.clv[self.train_index] > 0]
        logs = np.log(np.maximum(positive, 0.01))
        self.clv_log_mean, self.clv_log_std = float(logs.mean()), float(max(logs.std(), 1e-3))
        self.events, self.statics = self.normaliser.apply(self.arrays)

    def summary_of(self, chosen: np.ndarray) -> pd.DataFrame:
        """Calibration summaries (BG/NBD inputs and RFM values) of the customers at positions ``chosen``."""
        return self.arrays.summary.iloc[chosen].reset_index(drop=True)

    def tensors(self, chosen: np.ndarray) -> tuple[torch.Tensor, ...]:
        """(events, categories, statics, churn, clv) of the customers at positions ``chosen``."""
        return (
            torch.from_numpy(self.events[chosen]),
            torch.from_numpy(self.arrays.categories[chosen]),
            torch.from_numpy(self.statics[chosen]),
            torch.from_numpy(self.churn[chosen].astype(np.float32)),
            torch.from_numpy(self.clv[chosen].astype(np.float32)),
        )

    def train_dataloader(self) -> TensorBatchLoader:
        return TensorBatchLoader(*self.tensors(self.train_index), batch_size=self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> TensorBatchLoader:
        return TensorBatchLoader(*self.tensors(self.val_index), batch_size=1024)

    def model_kwargs(self) -> dict[str, Any]:
        """Sizes and target scale the network needs."""
        return {
            "n_event_features": len(EVENT_FEATURES),
            "n_static_features": len(STATIC_FEATURES),
            "n_categories": len(self.categories),
            "clv_log_mean": self.clv_log_mean,
            "clv_log_std": self.clv_log_std,
        }

    def summary(self) -> dict[str, Any]:
        """Counts for the report."""
        return {
            "transactions": self.transactions,
            "customers (bought before the cut-off)": len(self.customer_ids),
            "calibration period": f"{_date(int(self.purchases['day'].min()))} .. {_date(self.cutoff_day)}",
            "holdout period": f"{_date(self.cutoff_day + 1)} .. {_date(self.cutoff_day + self.holdout_days)}",
            "churn rate (no purchase in the holdout)": round(float(self.churn.mean()), 4),
            "customers train / val / test": f"{len(self.train_index)} / {len(self.val_index)} / {len(self.test_index)}",
            "negative amounts left out": self.dropped_negative,
            "categories": len(self.categories),
        }

    def history_of(self, position: int) -> dict[str, Any]:
        """One customer's calibration history as a predictor input item."""
        rows = self.purchases[self.purchases["customer"] == position]
        item: dict[str, Any] = {
            "customer_id": str(self.customer_ids[position]),
            "as_of": _date(self.cutoff_day),
            "dates": [_date(d) for d in rows["day"]],
            "amounts": [round(float(a), 2) for a in rows["amount"]],
        }
        if self.categories:
            item["categories"] = rows["category"].tolist()
        return item
