"""Rows an eta bundle accepts, built for legs between routing nodes (what route_optimization asks it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

HOUR_NAMES = ("hour", "hour_of_day", "departure_hour")
WEEKDAY_NAMES = ("weekday", "day_of_week", "dow")
MONDAY = dt.datetime(2024, 1, 1)


def pair_rows(
    state: Mapping[str, Any], from_lat: np.ndarray, from_lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray,
    road_km: np.ndarray, hour: int, weekday: int,
) -> list[dict[str, Any]]:
    """One row per leg: distance, coordinates, hour and weekday where the bundle has such columns; others null."""
    columns = list(state["raw_columns"])
    features = state.get("features", {})
    pairs = features.get("geo_pairs", [])
    stamp_column = features.get("time_column")
    stamp = (MONDAY + dt.timedelta(days=int(weekday) % 7, hours=int(hour))).isoformat(sep=" ")
    constant: dict[str, Any] = {c: None for c in columns}
    for column in columns:
        if column.lower() in HOUR_NAMES:
            constant[column] = hour
        elif column.lower() in WEEKDAY_NAMES:
            constant[column] = weekday
    if stamp_column:
        constant[stamp_column] = stamp
    distance_column = state.get("distance_feature")
    rows = []
    for k in range(len(road_km)):
        row = dict(constant)
        if distance_column in row:
            row[distance_column] = float(road_km[k])
        if pairs:
            lat1, lon1, lat2, lon2 = pairs[0]
            row.update({lat1: float(from_lat[k]), lon1: float(from_lon[k]), lat2: float(to_lat[k]), lon2: float(to_lon[k])})
        rows.append(row)
    return rows
