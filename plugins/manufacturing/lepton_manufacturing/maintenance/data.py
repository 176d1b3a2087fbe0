"""Sensor windows for remaining-useful-life regression: split by unit, normalised on training units only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core import ConfigError, DataError
from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_manufacturing.maintenance.fleet import TIME, UNIT, SensorFleet, generate_fleet, load_fleet
from lepton_manufacturing.windows import last_windows, sliding_windows

__all__ = ["MaintenanceDataModule", "WindowSplit", "remaining_life"]


@dataclass
class WindowSplit:
    """Windows of one split: raw readings (n, window, channels), capped RUL targets, and their unit ids."""

    raw: np.ndarray
    rul: np.ndarray
    units: np.ndarray

    def __len__(self) -> int:
        return len(self.rul)


def remaining_life(frame: pd.DataFrame, rul_at_end: pd.Series | None = None) -> np.ndarray:
    """Cycles left at each row: time to the unit's last row, plus the unit's RUL at that row when given."""
    last = frame.groupby(UNIT, sort=False)[TIME].transform("max").to_numpy(float)
    rul = last - frame[TIME].to_numpy(float)
    if rul_at_end is not None:
        rul = rul + frame[UNIT].map(rul_at_end).to_numpy(float)
    return rul


class MaintenanceDataModule(L.LightningDataModule):
    """Windows of ``window`` cycles; units go whole to train, validation or test; RUL capped at ``rul_cap``.

    Training and validation windows start every ``stride`` cycles; test windows every cycle.
    With a C-MAPSS ``test_`` file each test unit is scored once, on its last window (the benchmark's
    convention). Without one, ``test_fraction`` of the units are held out and every window is scored.
    """

    def __init__(
        self,
        path: str | None = None,
        format: str = "auto",  # noqa: A002 - the config key users set (data.format)
        subset: str | None = None,
        unit_column: str = "unit",
        time_column: str = "cycle",
        sensor_columns: list[str] | None = None,
        window: int = 40,
        stride: int = 2,
        rul_cap: float = 125.0,
        val_fraction: float = 0.2,
        test_fraction: float = 0.2,
        n_units: int = 100,
        n_test_units: int = 100,
        batch_size: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if window < 2:
            raise ConfigError(f"data.window={window} is too short", "use a window of at least 2 cycles")
        self.path, self.format, self.subset = path, format, subset
        self.unit_column, self.time_column, self.sensor_columns = unit_column, time_column, sensor_columns
        self.window, self.stride, self.rul_cap = int(window), int(stride), float(rul_cap)
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.n_units, self.n_test_units = n_units, n_test_units
        self.batch_size, self.seed = batch_size, seed
        self.splits: dict[str, WindowSplit] = {}
        self.notes: list[str] = []

    def _load(self) -> SensorFleet:
        if self.path is None:
            return generate_fleet(self.n_units, self.n_test_units, self.seed)
        return load_fleet(self.path, self.format, self.subset, self.unit_column, self.time_column, self.sensor_columns)

    def setup(self, stage: str | None = None) -> None:
        """Load, split by unit, fit the per-channel normalisation on training units, cut windows."""
        if self.splits:
            return
        fleet = self._load()
        self.source = fleet.source
        units = fleet.train[UNIT].unique()
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(units)
        if fleet.test is None:
            n_test = max(1, round(self.test_fraction * len(units)))
            test_units, order = order[:n_test], order[n_test:]
        n_val = max(1, round(self.val_fraction * len(order)))
        if len(order) - n_val < 1:
            raise DataError(f"only {len(units)} unit(s) in the data", "provide more units (split is by unit, never by row)")
        val_units, train_units = order[:n_val], order[n_val:]
        frames = {
            "train": fleet.train[fleet.train[UNIT].isin(train_units)],
            "val": fleet.train[fleet.train[UNIT].isin(val_units)],
        }
        self.channels = self._informative_channels(frames["train"], fleet.channels)
        values = frames["train"][self.channels].to_numpy(np.float64)
        self.mean, self.std = values.mean(0), values.std(0)
        self.splits = {name: self._windows(frame, self.stride) for name, frame in frames.items()}
        if fleet.test is None:
            self.test_mode = "every window of held-out run-to-failure units"
            self.splits["test"] = self._windows(fleet.train[fleet.train[UNIT].isin(test_units)], 1)
        else:
            self.test_mode = "last window of each test unit"
            self.splits["test"] = self._last_windows(fleet.test, fleet.test_rul)
        for name, split in self.splits.items():
            if len(split) == 0:
                longest = int(fleet.train.groupby(UNIT).size().max())
                raise DataError(
                    f"the {name} split has no window of {self.window} cycles (the longest unit has {longest})",
                    "lower data.window or provide longer histories",
                )
        self.tensors = {name: self._tensors(split) for name, split in self.splits.items()}

    def _informative_channels(self, train: pd.DataFrame, channels: list[str]) -> list[str]:
        spread = train[channels].std().fillna(0.0)
        constant = [c for c in channels if spread[c] <= 1e-8 * max(1.0, abs(float(train[c].mean())))]
        kept = [c for c in channels if c not in constant]
        if not kept:
            raise DataError("every sensor column is constant on the training units", "provide varying sensor columns")
        if constant:
            self.notes.append(f"constant on training units, dropped: {', '.join(constant)}")
        return kept

    def _windows(self, frame: pd.DataFrame, stride: int) -> WindowSplit:
        values = frame[self.channels].to_numpy(np.float32)
        raw, last_rows = sliding_windows(values, frame[UNIT].to_numpy(), self.window, stride)
        rul = np.minimum(remaining_life(frame)[last_rows], self.rul_cap)
        return WindowSplit(raw, rul.astype(np.float32), frame[UNIT].to_numpy()[last_rows])

    def _last_windows(self, frame: pd.DataFrame, rul_at_end: pd.Series) -> WindowSplit:
        raw, last_rows, padded = last_windows(frame[self.channels].to_numpy(np.float32), frame[UNIT].to_numpy(), self.window)
        if padded.any():
            self.notes.append(f"{int(padded.sum())} test unit(s) shorter than {self.window} cycles: first reading repeated")
        rul = np.minimum(remaining_life(frame, rul_at_end)[last_rows], self.rul_cap)
        return WindowSplit(raw, rul.astype(np.float32), frame[UNIT].to_numpy()[last_rows])

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Scale raw windows with the training units' per-channel mean and standard deviation."""
        return ((raw - self.mean) / np.where(self.std > 0, self.std, 1.0)).astype(np.float32)

    def _tensors(self, split: WindowSplit) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(self.normalise(split.raw)), torch.from_numpy(split.rul)

    def train_dataloader(self) -> Any:
        return TensorBatchLoader(*self.tensors["train"], batch_size=self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> Any:
        return TensorBatchLoader(*self.tensors["val"], batch_size=1024)

    def test_dataloader(self) -> Any:
        return TensorBatchLoader(*self.tensors["test"], batch_size=1024)

    def model_kwargs(self) -> dict[str, Any]:
        """Sizes the network needs from the data."""
        return {"n_channels": len(self.channels), "window": self.window, "rul_cap": self.rul_cap}

    def summary(self) -> dict[str, Any]:
        """Units and windows per split, channels and the test convention, for the report."""
        summary: dict[str, Any] = {"source": self.source, "channels": len(self.channels), "window": self.window}
        for name, split in self.splits.items():
            summary[f"{name} units"] = int(len(np.unique(split.units)))
            summary[f"{name} windows"] = len(split)
        summary["test scoring"] = self.test_mode
        return summary

    def export_state(self) -> dict[str, Any]:
        """The fitted normalisation and the window the predictor needs."""
        return {
            "channels": list(self.channels),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "window": self.window,
            "rul_cap": self.rul_cap,
        }

    def input_example(self) -> list[dict[str, Any]]:
        """Two made-up windows, one list of readings per sensor column (oldest first): the per-step median and
        mean of the training windows, never the readings of one unit."""
        raw = self.splits["train"].raw
        typical = (np.median(raw, axis=0), raw.mean(axis=0))
        return [{"readings": {c: [float(v) for v in w[:, i]] for i, c in enumerate(self.channels)}} for w in typical]
