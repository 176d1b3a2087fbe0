"""A parallel-aisle warehouse: slots (aisle, bay, level), a depot on the front cross-aisle, and its travel metric.

Pickers walk the centre line of each aisle and reach both rack faces from it. Aisles run from the front
cross-aisle (y = 0, where the depot / pack station stands) to the back cross-aisle (y = aisle length), so the
walk between two points in different aisles is |dx| plus the shorter way round, via the front or the back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lepton_core.errors import DataError

DEPOT_AISLE = -1
LOCATION_COLUMNS = ("location", "aisle", "bay", "level")


@dataclass(frozen=True)
class Layout:
    """Slots and geometry. ``level_extra_s`` is the extra pick time per level (the golden zone costs 0)."""

    aisle: np.ndarray
    bay: np.ndarray
    level: np.ndarray
    names: tuple[str, ...]
    n_bays: int
    aisle_spacing_m: float = 3.0
    bay_width_m: float = 1.2
    depot_x_m: float = 0.0
    level_extra_s: tuple[float, ...] = (3.0, 0.0, 5.0)
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({name: i for i, name in enumerate(self.names)})

    @classmethod
    def grid(cls, n_aisles: int, n_bays: int, n_levels: int, **geometry: Any) -> Layout:
        """Every (aisle, bay, level) of a rectangular block, named A01-B03-L1 (depot in front of the middle)."""
        if min(n_aisles, n_bays, n_levels) < 1:
            raise DataError(f"layout {n_aisles} aisles x {n_bays} bays x {n_levels} levels has no slots",
                            "set data.layout.n_aisles, n_bays and n_levels to at least 1")
        aisle, bay, level = (a.ravel() for a in np.meshgrid(np.arange(n_aisles), np.arange(n_bays),
                                                              np.arange(n_levels), indexing="ij"))
        names = tuple(f"A{a + 1:02d}-B{b + 1:02d}-L{lv + 1}" for a, b, lv in zip(aisle, bay, level))
        return cls._build(aisle, bay, level, names, **geometry)

    @classmethod
    def _build(cls, aisle: np.ndarray, bay: np.ndarray, level: np.ndarray, names: Sequence[str],
               aisle_spacing_m: float = 3.0, bay_width_m: float = 1.2, level_extra_s: Sequence[float] = (3.0, 0.0, 5.0),
               depot_x_m: float | None = None) -> Layout:
        if aisle_spacing_m <= 0 or bay_width_m <= 0:
            raise DataError(f"aisle spacing {aisle_spacing_m:g} m / bay width {bay_width_m:g} m must be positive",
                            "set data.layout.aisle_spacing_m and bay_width_m above 0")
        n_levels = int(level.max()) + 1
        if len(level_extra_s) < n_levels:
            raise DataError(f"data.layout.level_extra_s lists {len(level_extra_s)} level(s) but slots use {n_levels}",
                            "give one extra pick time (seconds) per level")
        middle = (int(aisle.max()) * aisle_spacing_m) / 2.0
        return cls(aisle.astype(np.int64), bay.astype(np.int64), level.astype(np.int64), tuple(names),
                   int(bay.max()) + 1, float(aisle_spacing_m), float(bay_width_m),
                   float(middle if depot_x_m is None else depot_x_m), tuple(float(s) for s in level_extra_s))

    @classmethod
    def from_table(cls, frame: pd.DataFrame, source: str, **geometry: Any) -> Layout:
        """Slots from a locations table (location, aisle, bay, level; whole numbers from 0); bad rows raise DataError."""
        missing = [c for c in LOCATION_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"{source}: missing column(s) {', '.join(missing)}",
                            "give a locations table with columns location, aisle, bay, level (whole numbers from 0)")
        names = frame["location"].astype(str).str.strip()
        duplicated = names[names.duplicated()]
        if len(duplicated):
            raise DataError(f"{source}: duplicate location id(s) {', '.join(duplicated.unique()[:3])}",
                            "give each slot one row")
        values = {}
        for column in ("aisle", "bay", "level"):
            numbers = pd.to_numeric(frame[column], errors="coerce")
            bad = numbers.isna() | (numbers < 0) | (numbers != numbers.round())
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{source}: column '{column}' has {int(bad.sum())} value(s) that are not whole numbers "
                                f">= 0, e.g. '{frame[column].iloc[row]}' at location {names.iloc[row]}",
                                "number aisles, bays and levels from 0")
            values[column] = numbers.to_numpy(dtype=np.int64)
        return cls._build(values["aisle"], values["bay"], values["level"], names.tolist(), **geometry)

    @property
    def n_slots(self) -> int:
        """Number of slots."""
        return len(self.names)

    @property
    def aisle_length_m(self) -> float:
        """Distance from the front to the back cross-aisle."""
        return self.n_bays * self.bay_width_m

    @property
    def x(self) -> np.ndarray:
        """Aisle centre line of each slot (m)."""
        return self.aisle * self.aisle_spacing_m

    @property
    def y(self) -> np.ndarray:
        """Distance of each slot's bay from the front cross-aisle (m)."""
        return (self.bay + 0.5) * self.bay_width_m

    def index_of(self, location: str) -> int | None:
        """Slot index of a location id, None when the layout has no such slot."""
        return self._index.get(location)

    def extra_pick_s(self, slots: np.ndarray) -> np.ndarray:
        """Extra pick time of each slot's level."""
        return np.asarray(self.level_extra_s)[self.level[slots]]

    def distance(self, a: np.ndarray, xa: np.ndarray, ya: np.ndarray, b: np.ndarray, xb: np.ndarray,
                 yb: np.ndarray) -> np.ndarray:
        """Walking distance (m) between points (aisle, x, y): along the aisle, or round via the front or back."""
        length = self.aisle_length_m
        across = np.abs(xa - xb) + np.minimum(ya + yb, 2 * length - ya - yb)
        return np.where(a == b, np.abs(ya - yb), across)

    def points(self, slots: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(aisle, x, y) of the depot followed by the given slots."""
        slots = np.asarray(slots, dtype=np.int64)
        aisle = np.concatenate([[DEPOT_AISLE], self.aisle[slots]])
        x = np.concatenate([[self.depot_x_m], self.x[slots]])
        y = np.concatenate([[0.0], self.y[slots]])
        return aisle, x, y

    def matrix(self, slots: Sequence[int]) -> np.ndarray:
        """Distance matrix (m) over the depot (row 0) and the given slots."""
        a, x, y = self.points(slots)
        return self.distance(a[:, None], x[:, None], y[:, None], a[None, :], x[None, :], y[None, :])

    def slot_cost_s(self, speed_mps: float) -> np.ndarray:
        """Round trip from the depot plus the level's extra pick time: how good a slot is for a fast mover."""
        round_trip = 2 * (np.abs(self.x - self.depot_x_m) + self.y)
        return round_trip / speed_mps + self.extra_pick_s(np.arange(self.n_slots))

    def ranked_slots(self, speed_mps: float) -> np.ndarray:
        """Slot indices from best to worst (ties in slot order)."""
        return np.argsort(self.slot_cost_s(speed_mps), kind="stable")

    def to_state(self) -> dict[str, Any]:
        """Plain JSON for the bundle."""
        return {"location": list(self.names), "aisle": self.aisle.tolist(), "bay": self.bay.tolist(),
                "level": self.level.tolist(), "aisle_spacing_m": self.aisle_spacing_m,
                "bay_width_m": self.bay_width_m, "depot_x_m": self.depot_x_m, "level_extra_s": list(self.level_extra_s)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Layout:
        """Rebuild from ``to_state()``."""
        return cls._build(np.asarray(state["aisle"]), np.asarray(state["bay"]), np.asarray(state["level"]),
                          list(state["location"]), state["aisle_spacing_m"], state["bay_width_m"],
                          state["level_extra_s"], state["depot_x_m"])
