"""The eta datamodule: a delivery table (or the generated demo) with derived geo/time features, via lepton_core.tabular."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lepton_core.errors import DataError
from lepton_core.tabular import TabularDataModule, typical_frame_rows
from lepton_logistics.eta.demo import generate_deliveries
from lepton_logistics.eta.features import DeliveryFeatures, detect_geo_pairs, is_datetime_like


class EtaDataModule(TabularDataModule):
    """Delivery-time regression data.

    ``geo_pairs`` ("auto" finds ``<x>_lat``/``<x>_lon`` columns and pairs them in order) yields haversine
    distance and bearing; ``timestamp_column`` ("auto": ``time_column`` or the one date column) yields
    hour and weekday. ``distance_column`` is what the linear baseline uses (the derived haversine
    distance when the table has none). ``log_target`` learns log(y) when every training target is positive.
    """

    def __init__(
        self,
        path: str | None = None,
        target: str | None = "delivery_minutes",
        *,
        n_rows: int = 8000,
        geo_pairs: str | Sequence[Sequence[str]] | None = "auto",
        timestamp_column: str | None = "auto",
        distance_column: str | None = "distance_km",
        log_target: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(path, target, **kwargs)
        self.n_rows = int(n_rows)
        self.geo_pairs = geo_pairs
        self.timestamp_column = timestamp_column
        self.distance_column = distance_column
        self.log_target = log_target
        self.delivery_features = DeliveryFeatures()
        self.raw_columns: list[str] = []
        self._raw_frame_columns: list[str] = []
        self._filtered: pd.DataFrame | None = None
        self._positions: dict[str, np.ndarray] = {}

    def demo_frame(self) -> pd.DataFrame:
        """Generated deliveries (distance, hour, weekday, weather, courier, items)."""
        return generate_deliveries(self.n_rows, self.seed)

    def _resolve_features(self, frame: pd.DataFrame) -> DeliveryFeatures:
        columns = [str(c) for c in frame.columns]
        pairs = detect_geo_pairs(columns) if self.geo_pairs == "auto" else [list(p) for p in self.geo_pairs or []]
        stamp = self.timestamp_column
        if stamp == "auto":
            candidates = [c for c in columns if c not in (self.target, self.id_column) and c not in self.drop
                          and is_datetime_like(frame[c])]
            stamp = self.time_column or (candidates[0] if len(candidates) == 1 else None)
        if stamp and stamp not in frame.columns:
            raise DataError(f"data.timestamp_column '{stamp}' not found", "fix data.timestamp_column")
        return DeliveryFeatures(pairs, stamp)

    def load_frame(self) -> pd.DataFrame:
        """The raw table plus derived features (the raw timestamp stays for the predictor's input rows)."""
        frame = super().load_frame()
        self.delivery_features = self._resolve_features(frame)
        if "day_of_week" in self.delivery_features.derived_columns and "day_of_week" not in self.categorical:
            self.categorical = [*self.categorical, "day_of_week"]
        self._raw_frame_columns = [str(c) for c in frame.columns]
        return self.delivery_features.add_to(frame)

    def feature_columns(self, frame: pd.DataFrame) -> list[str]:
        """The core's feature columns without the raw timestamp (its hour/weekday are the features)."""
        return [c for c in super().feature_columns(frame) if c != self.delivery_features.time_column]

    def split_indices(self, frame: pd.DataFrame, y: np.ndarray) -> dict[str, np.ndarray]:
        """The core's split, remembered so raw rows (with their timestamp) can be given back."""
        self._filtered = frame
        self._positions = super().split_indices(frame, y)
        return self._positions

    def setup(self, stage: str | None = None) -> None:
        """Tabular setup, then the raw input columns the predictor accepts."""
        if self.tensors:
            return
        super().setup(stage)
        derived = set(self.delivery_features.derived_columns)
        assert self.preprocessor is not None
        raw = [c for c in self.preprocessor.columns if c not in derived]
        stamp = self.delivery_features.time_column
        self.raw_columns = [*raw, *([stamp] if stamp else [])]
        if self.distance_feature not in self.preprocessor.numeric:
            raise DataError(
                f"no numeric distance column '{self.distance_column}' and no lat/lon pairs to derive one",
                "set data.distance_column, or give <origin>_lat/_lon and <destination>_lat/_lon columns",
            )

    @property
    def distance_feature(self) -> str:
        """The distance column of the linear baseline."""
        if self.distance_column and self.distance_column in self._raw_frame_columns:
            return self.distance_column
        return "haversine_km"

    def model_kwargs(self) -> dict[str, Any]:
        """Network sizes plus the training target's scale."""
        y = self.targets["train"].astype(np.float64)
        log_target = bool(self.log_target and y.min() > 0)
        scaled = np.log(y) if log_target else y
        return {**super().model_kwargs(), "target_mean": float(scaled.mean()), "target_std": float(scaled.std() + 1e-6),
                "log_target": log_target}

    def summary(self) -> dict[str, Any]:
        """The core summary plus the derived features."""
        summary = super().summary()
        if self.delivery_features.derived_columns:
            summary["derived features"] = ", ".join(self.delivery_features.derived_columns)
        return summary

    def export_state(self) -> dict[str, Any]:
        """Preprocessing, derivation and raw input columns for the bundle."""
        return {**super().export_state(), "features": self.delivery_features.to_state(), "raw_columns": self.raw_columns,
                "distance_feature": self.distance_feature}

    def input_example(self) -> list[dict[str, Any]]:
        """Two made-up raw rows summarising the training split column by column (no real delivery)."""
        assert self._filtered is not None
        return typical_frame_rows(self._filtered.iloc[self._positions["train"]][self.raw_columns], self.id_column)
