"""FinanceDataModule: a binary-outcome table (user's CSV/Parquet or the demo) split and encoded for the net."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular.datamodule import SPLITS, TabularDataModule
from lepton_core.tabular.preprocessing import category_key
from lepton_finance.demo import DEMOS

__all__ = ["FinanceDataModule"]

AUTO_POSITIVE = ("1", "true", "yes", "y")


class FinanceDataModule(TabularDataModule):
    """Binary target (``positive_label`` vs everything else) over a table; the demo when ``path`` is None."""

    stratify: ClassVar[bool] = True

    def __init__(self, demo: str = "credit", n_rows: int = 20000, positive_label: Any = None, **table: Any) -> None:
        """``table``: TabularDataModule's options (path, target, features, drop, id_column, time_column...)."""
        if demo not in DEMOS:
            raise ConfigError(f"unknown demo '{demo}'", f"use one of {', '.join(DEMOS)}")
        if table.get("path") is None:
            spec = DEMOS[demo][0]
            table["target"] = table.get("target") or spec.target
            table["id_column"] = table.get("id_column") or spec.id_column
            table["time_column"] = table.get("time_column") or spec.time_column
            positive_label = spec.positive_label if positive_label is None else positive_label
        super().__init__(**table)
        self.demo = demo
        self.n_rows = int(n_rows)
        self.positive_label = positive_label
        self.labels: tuple[Any, Any] | None = None

    def demo_frame(self) -> pd.DataFrame:
        """The generated demo table of this task."""
        return DEMOS[self.demo][1](n_rows=self.n_rows, seed=self.seed)

    def encode_target(self, values: pd.Series) -> np.ndarray:
        """1 for ``positive_label``, 0 for the other class; one class or more than two raise DataError."""
        keys = values.map(category_key)
        classes = sorted(keys.dropna().unique())
        shown = ", ".join(repr(c) for c in classes[:6]) + (", ..." if len(classes) > 6 else "")
        if len(classes) < 2:
            raise DataError(
                f"target '{self.target}' has a single class ({shown})", "give a table with both outcomes"
            )
        if len(classes) > 2:
            raise DataError(
                f"target '{self.target}' has {len(classes)} classes ({shown}), a binary outcome is needed",
                "map it to two values (e.g. default / no default) or choose another data.target",
            )
        if self.positive_label is None:
            auto = [c for c in classes if c.lower() in AUTO_POSITIVE]
            if len(auto) != 1:
                raise DataError(
                    f"target '{self.target}' has classes {shown}; which one is the event to predict?",
                    f"set data.positive_label to one of {shown}",
                )
            positive = auto[0]
        else:
            positive = category_key(self.positive_label)
            if positive not in classes:
                raise DataError(
                    f"data.positive_label={self.positive_label!r} is not a class of '{self.target}' ({shown})",
                    f"set data.positive_label to one of {shown}",
                )
        negative = next(c for c in classes if c != positive)
        original = {category_key(v): v for v in values.dropna().unique()}
        self.labels = (_plain(original[negative]), _plain(original[positive]))
        return (keys == positive).to_numpy(dtype=np.float32)

    def setup(self, stage: str | None = None) -> None:
        """Load and split (see TabularDataModule); every split must hold both classes."""
        if self.tensors:
            return
        super().setup(stage)
        for split in SPLITS:
            positives = int(self.targets[split].sum())
            if positives in (0, len(self.targets[split])):
                which = "no positives" if positives == 0 else "only positives"
                raise DataError(
                    f"the {split} split has {which} ({len(self.targets[split])} rows)",
                    "give more rows, or a time range in which both outcomes occur",
                )

    @property
    def positive_rate(self) -> float:
        """Share of positives in the training split."""
        return float(self.targets["train"].mean())

    def model_kwargs(self) -> dict[str, Any]:
        """Network sizes plus the training positive rate (for class weighting)."""
        return {**super().model_kwargs(), "positive_rate": self.positive_rate}

    def summary(self) -> dict[str, Any]:
        """Tabular summary plus the target and its positive rate per split."""
        assert self.labels is not None
        summary = super().summary()
        summary["target"] = f"{self.target} (positive: {self.labels[1]!r})"
        for split in SPLITS:
            summary[f"{split} positive rate"] = round(float(self.targets[split].mean()), 4)
        return summary

    def export_state(self) -> dict[str, Any]:
        """Preprocessing plus the two target labels."""
        assert self.labels is not None
        return {**super().export_state(), "negative_label": self.labels[0], "positive_label": self.labels[1]}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
