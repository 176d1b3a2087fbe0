"""The warehouse datamodule: order lines (file or demo) -> picks per SKU and period -> forecast windows, a layout,
and the held-out future orders that slotting and routing are scored on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import ConfigError, DataError
from lepton_core.forecasting import read_table
from lepton_logistics.warehouse.demo import generate_order_lines
from lepton_logistics.warehouse.layout import Layout

ORDER_COLUMNS = ("date", "order_id", "sku", "qty")


def clean_order_lines(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Typed order lines (date, order_id, sku, qty); a line of one SKU twice in an order is summed.

    Missing columns, unparseable dates, empty ids and quantities that are not positive whole numbers raise DataError.
    """
    missing = [c for c in ORDER_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}",
                        "give one row per order line with columns date, order_id, sku, qty")
    if frame.empty:
        raise DataError(f"{source} has no order lines", "give at least a few weeks of order lines")
    dates = pd.to_datetime(frame["date"], errors="coerce", format="mixed")
    if dates.isna().any():
        bad = frame["date"][dates.isna()].iloc[0]
        raise DataError(f"{source}: column 'date' has {int(dates.isna().sum())} value(s) that are not dates, "
                        f"like {str(bad)!r}", "use ISO dates such as 2025-03-01")
    for column in ("order_id", "sku"):
        text = frame[column].astype(str).str.strip()
        empty = frame[column].isna() | (text == "")
        if empty.any():
            raise DataError(f"{source}: {int(empty.sum())} line(s) have no {column} (first at row {int(np.argmax(empty))})",
                            f"fill column '{column}' on every line")
    qty = pd.to_numeric(frame["qty"], errors="coerce")
    bad = qty.isna() | (qty <= 0) | (qty != qty.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: column 'qty' has {int(bad.sum())} value(s) that are not positive whole numbers, "
                        f"e.g. '{frame['qty'].iloc[row]}' for sku {frame['sku'].iloc[row]} in order {frame['order_id'].iloc[row]}",
                        "give each line a quantity of 1 or more; drop returns and cancelled lines")
    lines = pd.DataFrame({"date": dates.dt.normalize(), "order_id": frame["order_id"].astype(str).str.strip(),
                          "sku": frame["sku"].astype(str).str.strip(), "qty": qty.astype(np.int64)})
    return lines.groupby(["order_id", "sku"], as_index=False, sort=False).agg(date=("date", "min"), qty=("qty", "sum"))


class WarehouseDataModule(L.LightningDataModule):
    """Order lines and a layout; training windows of per-SKU picks for the velocity network.

    Picks (order lines) are counted per SKU and period of ``period_days``, counted back from the start of the
    held-out test period (the last ``horizon_periods`` periods). A window is ``input_periods`` periods of one
    SKU's picks; its target, the SKU's picks over the next ``horizon_periods`` periods. The last training origin
    leaves a gap so no training target overlaps the validation target; the test origin is the test period.
    """

    def __init__(self, path: str | None = None, locations_path: str | None = None,
                 layout: Mapping[str, Any] | None = None, demo: Mapping[str, Any] | None = None,
                 period_days: int = 7, input_periods: int = 8, horizon_periods: int = 2, max_eval_orders: int = 600,
                 batch_size: int = 256, seed: int = 0) -> None:
        super().__init__()
        if min(period_days, input_periods, horizon_periods, max_eval_orders, batch_size) < 1:
            raise ConfigError("data.period_days, input_periods, horizon_periods, max_eval_orders and batch_size "
                              "must be at least 1", "fix the data section")
        self.path, self.locations_path, self.seed = path, locations_path, seed
        self.layout_cfg = dict(layout or {})
        self.demo_cfg = dict(demo or {})
        self.period_days, self.input_periods, self.horizon_periods = period_days, input_periods, horizon_periods
        self.max_eval_orders, self.batch_size = max_eval_orders, batch_size
        self.layout: Layout | None = None
        self.lines: pd.DataFrame | None = None
        self.skus: list[str] = []
        self.counts = np.zeros((0, 0))
        self.windows: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def _read_layout(self) -> Layout:
        geometry = {k: self.layout_cfg[k] for k in ("aisle_spacing_m", "bay_width_m", "level_extra_s")
                    if k in self.layout_cfg}
        if self.locations_path:
            return Layout.from_table(read_table(self.locations_path), str(self.locations_path), **geometry)
        return Layout.grid(int(self.layout_cfg.get("n_aisles", 10)), int(self.layout_cfg.get("n_bays", 14)),
                           int(self.layout_cfg.get("n_levels", 3)), **geometry)

    def setup(self, stage: str | None = None) -> None:
        """Read and validate lines and layout, count picks per period, build train/validation windows."""
        if self.lines is not None:
            return
        layout = self._read_layout()
        if self.path:
            lines = clean_order_lines(read_table(self.path), str(self.path))
        else:
            lines = clean_order_lines(generate_order_lines(**self.demo_cfg, seed=self.seed), "demo order lines")
        self.skus = sorted(lines["sku"].unique())
        if len(self.skus) > layout.n_slots:
            raise DataError(f"{len(self.skus)} SKUs but only {layout.n_slots} slots in the layout",
                            "add slots (data.layout or data.locations_path) or drop SKUs that are no longer stocked")
        offset = (lines["date"] - self.test_start(lines)).dt.days.to_numpy()
        lines = lines.assign(period=np.floor_divide(offset, self.period_days))
        n_history = int(-offset.min()) // self.period_days
        needed = self.input_periods + 2 * self.horizon_periods
        if n_history < needed:
            raise DataError(f"order lines cover {n_history} period(s) of {self.period_days} day(s) before the test "
                            f"period; {needed} are needed", "give a longer history or lower data.input_periods")
        lines = lines[lines["period"] >= -n_history]
        sku_index = pd.Index(self.skus).get_indexer(lines["sku"])
        counts = np.zeros((n_history + self.horizon_periods, len(self.skus)))
        np.add.at(counts, (lines["period"].to_numpy() + n_history, sku_index), 1.0)
        self.layout, self.lines, self.counts, self.n_history = layout, lines, counts, n_history
        val_origin = n_history - self.horizon_periods
        self.windows = {
            "train": self._windows(range(self.input_periods, val_origin - self.horizon_periods + 1)),
            "val": self._windows([val_origin]),
        }

    def test_start(self, lines: pd.DataFrame) -> pd.Timestamp:
        """First day of the held-out test period."""
        return lines["date"].max() - pd.Timedelta(days=self.period_days * self.horizon_periods - 1)

    def history_inputs(self, origin: int) -> torch.Tensor:
        """log1p picks of every SKU over the ``input_periods`` periods before ``origin`` (n_skus, input_periods)."""
        block = self.counts[origin - self.input_periods:origin].T
        return torch.tensor(np.log1p(block), dtype=torch.float32)

    def target(self, origin: int) -> np.ndarray:
        """Picks of every SKU over the horizon that starts at ``origin``."""
        return self.counts[origin:origin + self.horizon_periods].sum(axis=0)

    def _windows(self, origins: Any) -> tuple[torch.Tensor, torch.Tensor]:
        origins = list(origins)
        if not origins:
            raise DataError("the history leaves no training window", "give a longer history or lower data.input_periods")
        x = torch.cat([self.history_inputs(t) for t in origins])
        y = torch.tensor(np.concatenate([self.target(t) for t in origins]), dtype=torch.float32)
        return x, y

    @property
    def test_origin(self) -> int:
        """Period index where the held-out test period starts."""
        return self.n_history

    def history_counts(self) -> np.ndarray:
        """Picks per (history period, SKU), before the test period."""
        return self.counts[:self.n_history]

    def test_orders(self) -> list[pd.DataFrame]:
        """Up to ``max_eval_orders`` orders of the test period (a seeded sample), each its lines."""
        assert self.lines is not None
        test = self.lines[self.lines["period"] >= 0]
        ids = np.array(sorted(test["order_id"].unique()))
        if len(ids) > self.max_eval_orders:
            ids = np.sort(np.random.default_rng(self.seed).choice(ids, self.max_eval_orders, replace=False))
        chosen = test[test["order_id"].isin(set(ids))]
        return [group for _, group in chosen.groupby("order_id", sort=True)]

    def loader(self, split: str, shuffle: bool = False) -> TensorBatchLoader:
        """Batches of (history, target) windows."""
        return TensorBatchLoader(*self.windows[split], batch_size=self.batch_size, shuffle=shuffle, seed=self.seed)

    def train_dataloader(self) -> TensorBatchLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> TensorBatchLoader:
        return self.loader("val")

    def model_kwargs(self) -> dict[str, Any]:
        """Window and horizon lengths."""
        return {"input_periods": self.input_periods, "horizon_periods": self.horizon_periods}

    def summary(self) -> dict[str, Any]:
        """Sizes for the report."""
        assert self.lines is not None and self.layout is not None
        test = self.lines["period"] >= 0
        return {
            "order lines": len(self.lines), "orders": self.lines["order_id"].nunique(), "SKUs": len(self.skus),
            "slots": self.layout.n_slots, "history periods": f"{self.n_history} x {self.period_days} days",
            "test period": f"{self.lines['date'][test].min():%Y-%m-%d} to {self.lines['date'].max():%Y-%m-%d}",
            "test orders scored": len(self.test_orders()), "training windows": len(self.windows["train"][1]),
        }
