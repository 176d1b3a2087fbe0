"""Geographic helpers: great-circle distance, initial bearing and coordinate range checks."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from lepton_core.errors import DataError

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts like numpy)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing_deg(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Initial compass bearing in degrees [0, 360) from the first point to the second."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    x = np.sin(dlmb) * np.cos(phi2)
    y = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlmb)
    return (np.degrees(np.arctan2(x, y)) + 360.0) % 360.0


def check_coordinates(
    lat: ArrayLike, lon: ArrayLike, what: str, labels: ArrayLike | None = None, allow_missing: bool = False
) -> None:
    """Raise DataError naming the first rows whose latitude or longitude is out of range (or missing)."""
    lat_arr = np.asarray(lat, dtype=float)
    lon_arr = np.asarray(lon, dtype=float)
    missing = np.isnan(lat_arr) | np.isnan(lon_arr)
    bad = (np.abs(lat_arr) > 90) | (np.abs(lon_arr) > 180) | np.isinf(lat_arr) | np.isinf(lon_arr)
    if not allow_missing:
        bad |= missing
    if not bad.any():
        return
    index = np.flatnonzero(bad)
    names = np.asarray(labels)[index] if labels is not None else index
    examples = ", ".join(f"{n} ({lat_arr[i]:g}, {lon_arr[i]:g})" for n, i in zip(names[:3], index[:3]))
    raise DataError(
        f"{what}: {len(index)} latitude/longitude value(s) missing or out of range, e.g. {examples}",
        "latitude must lie in [-90, 90] and longitude in [-180, 180] degrees",
    )
