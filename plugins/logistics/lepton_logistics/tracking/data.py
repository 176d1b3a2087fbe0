"""The order_tracking datamodule: an events table (or the demo) -> prefixes of completed orders, split by order.

Training examples are prefixes of delivered orders: at each status event before delivery, "now" is the event
itself and a random moment before the next event; the target is the hours from now to delivery. Orders not
yet delivered are live orders (kept out of training). Orders are split whole: ``split: time`` puts the latest
created orders in test (and the ones before them in validation), ``split: random`` shuffles orders.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import DataError
from lepton_core.tabular import TabularPreprocessor, typical_rows
from lepton_logistics.tracking.demo import generate_order_events
from lepton_logistics.tracking.events import MILESTONES, STATUSES, check_events
from lepton_logistics.tracking.features import (
    CLOCK_CARDINALITIES,
    NOW_FEATURES,
    SEQ_FEATURES,
    Prefixes,
    encode_prefixes,
    training_examples,
)

SPLITS = ("train", "val", "test")
MIN_COMPLETED = 20
EXAMPLE_START = pd.Timestamp("2025-01-07 09:00")


class OrderTrackingDataModule(L.LightningDataModule):
    """Events -> checked orders -> order-level split -> encoded prefixes and hours-to-delivery targets."""

    def __init__(
        self,
        path: str | None = None,
        order_column: str = "order_id",
        time_column: str = "timestamp",
        status_column: str = "status",
        order_features: list[str] | None = None,
        hub_column: str | None = "destination_hub",
        max_events: int = 12,
        split: str = "time",
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        invalid_orders: str = "error",
        batch_size: int = 256,
        n_orders: int = 3000,
        n_days: int = 90,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if split not in ("time", "random"):
            raise DataError(f"data.split={split} is not time or random", "set data.split=time or data.split=random")
        if not (0 < val_fraction < 0.5 and 0 < test_fraction < 0.5):
            raise DataError("data.val_fraction and data.test_fraction must lie in (0, 0.5)", "use e.g. 0.15")
        self.path, self.order_column, self.time_column, self.status_column = path, order_column, time_column, status_column
        self.order_features, self.hub_column, self.max_events = order_features, hub_column, int(max_events)
        self.split, self.val_fraction, self.test_fraction = split, val_fraction, test_fraction
        self.invalid_orders, self.batch_size, self.n_orders, self.n_days, self.seed = invalid_orders, batch_size, n_orders, n_days, seed
        self.preprocessor: TabularPreprocessor | None = None
        self.prefixes: dict[str, Prefixes] = {}
        self.targets: dict[str, np.ndarray] = {}
        self.tensors: dict[str, tuple[torch.Tensor, ...]] = {}
        self.order_columns: list[str] = []
        self.orders = pd.DataFrame()  # one row per order (see check_events)
        self.codes: list[np.ndarray] = []  # per order: status codes, in time order
        self.stamps: list[np.ndarray] = []  # per order: epoch seconds
        self.split_orders: dict[str, np.ndarray] = {}
        self.typical_gaps: dict[str, float] = {}
        self._summary: dict[str, Any] = {}

    def load_frame(self) -> pd.DataFrame:
        """The events table at ``path``, or the generated demo orders."""
        if self.path:
            from lepton_core.tabular.io import read_table

            return read_table(self.path)
        return generate_order_events(self.n_orders, self.seed, self.n_days)

    def _split_orders(self, completed: np.ndarray, created: pd.Series) -> dict[str, np.ndarray]:
        n = len(completed)
        n_test, n_val = max(round(n * self.test_fraction), 1), max(round(n * self.val_fraction), 1)
        if self.split == "time":
            ordered = completed[np.argsort(created.to_numpy()[completed], kind="stable")]
        else:
            ordered = completed[np.random.default_rng(self.seed).permutation(n)]
        return {"train": ordered[: n - n_val - n_test], "val": ordered[n - n_val - n_test : n - n_test],
                "test": ordered[n - n_test :]}

    def setup(self, stage: str | None = None) -> None:
        """Load, check, split by order, fit the order-column encoding on training orders, encode prefixes."""
        if self.tensors:
            return
        events, dropped = check_events(self.load_frame(), self.order_column, self.time_column, self.status_column,
                                       self.order_features, self.invalid_orders)
        self.order_columns = events.order_columns
        if self.hub_column and self.hub_column not in self.order_columns:
            raise DataError(f"hub column '{self.hub_column}' is not an order column of the events table",
                            "set data.hub_column to the destination hub column, or null")
        orders = events.orders
        completed = np.flatnonzero(orders["delivered"].to_numpy())
        if len(completed) < MIN_COMPLETED:
            raise DataError(f"only {len(completed)} order(s) end with 'delivered'; training needs at least {MIN_COMPLETED}",
                            "give the events of more completed orders")
        bounds = np.cumsum(orders["n_events"].to_numpy())[:-1]
        self.codes = np.split(events.events["code"].to_numpy(), bounds)
        self.stamps = np.split(events.events["stamp"].to_numpy().astype("datetime64[s]").astype(np.int64), bounds)
        self.orders = orders
        self.split_orders = self._split_orders(completed, orders["created"])
        train_orders = orders.iloc[self.split_orders["train"]]
        if self.order_columns:
            self.preprocessor = TabularPreprocessor().fit(train_orders, self.order_columns)
            x_num, x_cat = self.preprocessor.transform_arrays(orders)
        else:
            x_num, x_cat = np.zeros((len(orders), 0), np.float32), np.zeros((len(orders), 0), np.int64)
        for number, split in enumerate(SPLITS):
            order, last, now, hours = training_examples(self.codes, self.stamps, self.split_orders[split], self.seed + number)
            prefixes = encode_prefixes(self.codes, self.stamps, order, last, now, self.max_events)
            self.prefixes[split], self.targets[split] = prefixes, hours.astype(np.float32)
            self.tensors[split] = (
                torch.from_numpy(prefixes.seq_status), torch.from_numpy(prefixes.seq_num), torch.from_numpy(prefixes.length),
                torch.from_numpy(prefixes.now_num), torch.from_numpy(x_num[order]),
                torch.from_numpy(np.hstack([prefixes.clock, x_cat[order]])),
                torch.from_numpy(self.targets[split]),
            )
        self.typical_gaps = self._typical_gaps(self.split_orders["train"])
        test_created = orders["created"].iloc[self.split_orders["test"]]
        self._summary = {
            "orders": len(orders), "events": len(events.events), "delivered orders": len(completed),
            "live orders (not trained on)": int(len(orders) - len(completed)), "orders dropped as invalid": dropped,
            "order columns": ", ".join(self.order_columns) or "none",
            "split": f"by order, {self.split}" + (f" (test orders created from {test_created.min():%Y-%m-%d})"
                                                  if self.split == "time" else ""),
            **{f"{s} orders / prefixes": f"{len(self.split_orders[s])} / {len(self.targets[s])}" for s in SPLITS},
            "median hours to delivery (train)": round(float(np.median(self.targets["train"])), 1),
        }

    def _typical_gaps(self, chosen: np.ndarray) -> dict[str, float]:
        """Median hours from each milestone to the next event, over training orders (for made-up examples)."""
        gaps: dict[int, list[float]] = {}
        for o in chosen:
            for code, gap in zip(self.codes[o][:-1], np.diff(self.stamps[o]) / 3600.0):
                gaps.setdefault(int(code), []).append(float(gap))
        return {STATUSES[c - 1]: round(float(np.median(g)), 2) for c, g in gaps.items()}

    def loader(self, split: str, shuffle: bool = False) -> TensorBatchLoader:
        """Batches of (seq_status, seq_num, length, now_num, x_num, x_cat, hours) of one split (x_cat: hour and
        weekday at now, then the order's categories)."""
        return TensorBatchLoader(*self.tensors[split], batch_size=self.batch_size if shuffle else 2048,
                                 shuffle=shuffle, seed=self.seed)

    def train_dataloader(self) -> TensorBatchLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> TensorBatchLoader:
        return self.loader("val")

    def test_dataloader(self) -> TensorBatchLoader:
        return self.loader("test")

    def model_kwargs(self) -> dict[str, Any]:
        """Input sizes and the scale of log1p(hours to delivery) on training prefixes."""
        scaled = np.log1p(self.targets["train"].astype(np.float64))
        return {
            "n_statuses": len(STATUSES), "n_seq_features": len(SEQ_FEATURES), "n_now_features": len(NOW_FEATURES),
            "n_numeric": self.preprocessor.n_numeric if self.preprocessor else 0,
            "cardinalities": list(self.preprocessor.cardinalities) if self.preprocessor else [],
            "target_mean": float(scaled.mean()), "target_std": float(scaled.std() + 1e-6),
        }

    def hubs(self, split: str) -> np.ndarray:
        """The hub of each prefix of a split (text; "" without a hub column)."""
        if not self.hub_column:
            return np.full(len(self.targets[split]), "", dtype=object)
        return self.orders[self.hub_column].astype(str).to_numpy()[self.prefixes[split].order]

    def static_features(self, split: str) -> np.ndarray:
        """The encoded order columns (numbers, then category codes) of each prefix of a split."""
        x_num, x_cat = self.tensors[split][4], self.tensors[split][5][:, len(CLOCK_CARDINALITIES) :]
        return np.hstack([x_num.numpy(), x_cat.numpy().astype(np.float64)])

    def summary(self) -> dict[str, Any]:
        """Orders, events, live and dropped orders, the split."""
        return dict(self._summary)

    def export_state(self) -> dict[str, Any]:
        """Column names, the order-column encoding and the sequence length, for the bundle."""
        return {
            "order_column": self.order_column, "time_column": self.time_column, "status_column": self.status_column,
            "order_columns": list(self.order_columns), "max_events": self.max_events,
            "preprocessor": self.preprocessor.to_state() if self.preprocessor else None,
        }

    def example_orders(self) -> list[dict[str, Any]]:
        """Two made-up live orders (typical order columns, median times between statuses), never a real order."""
        attributes = typical_rows(self.preprocessor) if self.preprocessor else [{}, {}]
        examples = []
        for rank, upto in enumerate(("dispatched", "out_for_delivery")):
            stamp, rows = EXAMPLE_START, []
            for status in MILESTONES[: MILESTONES.index(upto) + 1]:
                rows.append({self.time_column: f"{stamp:%Y-%m-%d %H:%M:%S}", self.status_column: status})
                stamp += pd.Timedelta(hours=self.typical_gaps.get(status, 1.0))
            as_of = pd.Timestamp(rows[-1][self.time_column]) + pd.Timedelta(hours=1)
            examples.append({self.order_column: f"example-{rank + 1}", "rows": rows, **attributes[rank],
                             **({"as_of": f"{as_of:%Y-%m-%d %H:%M:%S}"} if rank == 0 else {})})
        return examples
