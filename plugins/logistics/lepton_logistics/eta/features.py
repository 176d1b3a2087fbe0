"""Delivery features derived from raw columns: haversine distance and bearing per lat/lon pair, hour and weekday.

Derivation happens on raw rows both in training and in the predictor, so a bundle takes the table's own
columns (coordinates, order timestamp) and never asks a caller for derived values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lepton_core.errors import ConfigError, DataError
from lepton_logistics.geo import bearing_deg, check_coordinates, haversine_km

LAT_PATTERN = re.compile(r"^(?P<prefix>.*?)[_ ]?(lat|latitude)$", re.IGNORECASE)
LON_NAMES = ("lon", "lng", "long", "longitude")


def find_points(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(lat, lon) column pairs that share a prefix (``pickup_lat``/``pickup_lon``...), in column order."""
    by_lower = {c.lower(): c for c in columns}
    points = []
    for column in columns:
        match = LAT_PATTERN.match(column)
        if not match:
            continue
        prefix = match.group("prefix")
        for name in LON_NAMES:
            for joiner in ("_", "", " "):
                candidate = by_lower.get(f"{prefix}{joiner if prefix else ''}{name}".lower())
                if candidate:
                    points.append((column, candidate))
                    break
            else:
                continue
            break
    return points


def detect_geo_pairs(columns: Sequence[str]) -> list[list[str]]:
    """Consecutive detected points as [from_lat, from_lon, to_lat, to_lon] pairs (origin then destination)."""
    points = find_points(columns)
    return [[*points[i], *points[i + 1]] for i in range(len(points) - 1)]


@dataclass
class DeliveryFeatures:
    """Which raw columns yield derived features, and the names of the features they yield."""

    geo_pairs: list[list[str]] = field(default_factory=list)
    time_column: str | None = None

    def __post_init__(self) -> None:
        for pair in self.geo_pairs:
            if len(pair) != 4:
                raise ConfigError(f"geo pair {pair} must list 4 columns", "use [from_lat, from_lon, to_lat, to_lon]")

    def _suffix(self, index: int) -> str:
        return "" if index == 0 else f"_{index + 1}"

    @property
    def geo_columns(self) -> list[str]:
        """Names of the derived geo features."""
        return [f"{name}{self._suffix(i)}" for i in range(len(self.geo_pairs))
                for name in ("haversine_km", "bearing_sin", "bearing_cos")]

    @property
    def time_columns(self) -> list[str]:
        """Names of the derived time features."""
        return ["hour_of_day", "day_of_week"] if self.time_column else []

    @property
    def derived_columns(self) -> list[str]:
        """Every derived feature name."""
        return [*self.geo_columns, *self.time_columns]

    @property
    def source_columns(self) -> list[str]:
        """Raw columns the derivation reads."""
        sources = [c for pair in self.geo_pairs for c in pair]
        return [*dict.fromkeys(sources), *([self.time_column] if self.time_column else [])]

    def add_to(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with the derived columns; out-of-range coordinates or bad timestamps raise DataError."""
        clash = [c for c in self.derived_columns if c in frame.columns]
        if clash:
            raise DataError(f"column(s) {', '.join(clash)} clash with derived features", "rename those columns")
        absent = [c for c in self.source_columns if c not in frame.columns]
        if absent:
            raise DataError(f"missing column(s) {', '.join(absent)}", "send the coordinate and time columns")
        out = frame.copy()
        for i, (lat1, lon1, lat2, lon2) in enumerate(self.geo_pairs):
            coords = [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in (lat1, lon1, lat2, lon2)]
            for (lat_name, lat), (lon_name, lon) in (((lat1, coords[0]), (lon1, coords[1])),
                                                     ((lat2, coords[2]), (lon2, coords[3]))):
                check_coordinates(lat, lon, f"columns '{lat_name}'/'{lon_name}'", allow_missing=True)
            bearing = np.radians(bearing_deg(*coords))
            suffix = self._suffix(i)
            out[f"haversine_km{suffix}"] = haversine_km(*coords)
            out[f"bearing_sin{suffix}"] = np.sin(bearing)
            out[f"bearing_cos{suffix}"] = np.cos(bearing)
        if self.time_column:
            stamps = parse_timestamps(frame[self.time_column], self.time_column)
            out["hour_of_day"] = stamps.dt.hour + stamps.dt.minute / 60.0
            out["day_of_week"] = stamps.dt.dayofweek.astype(float)
        return out

    def to_state(self) -> dict[str, Any]:
        """JSON-ready description for the bundle."""
        return {"geo_pairs": [list(p) for p in self.geo_pairs], "time_column": self.time_column}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DeliveryFeatures:
        """Rebuild from ``to_state()`` output."""
        return cls([list(p) for p in state.get("geo_pairs", [])], state.get("time_column"))


def parse_timestamps(values: pd.Series, name: str) -> pd.Series:
    """Datetimes from a column of dates/times (missing stays missing); unparseable text raises DataError."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    present = values.notna() & (values.astype(str).str.strip() != "")
    stamps = pd.to_datetime(values.where(present), errors="coerce", format="mixed")
    bad = values[present & stamps.isna()]
    if len(bad):
        raise DataError(
            f"time column '{name}' has values that are not dates, like {str(bad.iloc[0])!r}",
            "use ISO timestamps such as 2024-05-01 14:30",
        )
    return stamps


def is_datetime_like(values: pd.Series) -> bool:
    """True when a column holds dates or timestamps (datetime dtype, or text that parses as dates)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    sample = values.dropna().astype(str).head(50)
    if sample.empty:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.9) and sample.str.contains(r"\d{4}-\d{2}-\d{2}|/|:").mean() > 0.9
