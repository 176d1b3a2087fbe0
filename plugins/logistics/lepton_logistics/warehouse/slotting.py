"""Slotting policies: which SKU goes to which slot.

- velocity slotting: SKUs by expected picks, fastest first, into slots from best to worst (round trip from the
  depot plus the level's extra pick time), fed by the network or by a naive / moving-average velocity;
- ABC (class-based) slotting on past velocity: A, B and C zones by slot quality, SKUs in alphabetical order
  within their zone;
- alphabetical slotting: SKUs by id into slots in location order.

Baselines take ``(datamodule, ranked_slots)`` and return a ``Slotting``, so every policy is scored the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_core.errors import ConfigError
from lepton_logistics.warehouse.layout import Layout


@dataclass(frozen=True)
class Slotting:
    """Slot index per SKU (the datamodule's SKU order), and the velocity that drove it (None: none did)."""

    policy: str
    slot_of_sku: np.ndarray
    velocity: np.ndarray | None = None


def velocity_slotting(velocity: np.ndarray, ranked_slots: np.ndarray) -> np.ndarray:
    """Fastest SKU in the best slot, and so on (ties keep SKU order)."""
    order = np.argsort(-np.asarray(velocity, dtype=float), kind="stable")
    slots = np.empty(len(order), dtype=np.int64)
    slots[order] = ranked_slots[: len(order)]
    return slots


def location_order(layout: Layout) -> np.ndarray:
    """Slots in location order: aisle, then bay, then level."""
    return np.lexsort((layout.level, layout.bay, layout.aisle))


def alphabetical_slotting(n_skus: int, layout: Layout) -> np.ndarray:
    """SKUs (already sorted by id) into slots in location order."""
    return location_order(layout)[:n_skus].copy()


def abc_slotting(velocity: np.ndarray, layout: Layout, ranked_slots: np.ndarray, a_share: float = 0.8,
                 b_share: float = 0.15) -> np.ndarray:
    """Classes by cumulative share of picks (A: first ``a_share``, B: next ``b_share``, C: the rest); class k's
    zone is the next best slots in number; inside a zone, SKUs in id order take its slots in location order."""
    n = len(velocity)
    order = np.argsort(-velocity, kind="stable")
    total = float(velocity.sum()) or 1.0
    share_before = np.concatenate([[0.0], np.cumsum(velocity[order])[:-1]]) / total
    rank_class = np.where(share_before < a_share, 0, np.where(share_before < a_share + b_share, 1, 2))
    klass = np.empty(n, dtype=np.int64)
    klass[order] = rank_class
    position = np.empty(layout.n_slots, dtype=np.int64)
    position[location_order(layout)] = np.arange(layout.n_slots)
    slots = np.empty(n, dtype=np.int64)
    start = 0
    for k in range(3):
        members = np.flatnonzero(klass == k)
        zone = ranked_slots[start:start + len(members)]
        slots[members] = zone[np.argsort(position[zone], kind="stable")]
        start += len(members)
    return slots


class AlphabeticalSlotting:
    """Baseline: SKU ids in location order; uses no velocity."""

    name = "alphabetical"

    def fit(self, datamodule: Any) -> AlphabeticalSlotting:
        """Nothing to learn."""
        return self

    def predict(self, inputs: tuple[Any, np.ndarray]) -> Slotting:
        """Slotting of the datamodule's SKUs."""
        datamodule, _ = inputs
        return Slotting(self.name, alphabetical_slotting(len(datamodule.skus), datamodule.layout))


class _PastVelocity:
    """Velocity from the last ``window`` periods before the test period, scaled to the horizon."""

    name = "past_velocity"
    window = 1

    def fit(self, datamodule: Any) -> _PastVelocity:
        """Nothing to learn: the velocity is read at prediction time."""
        return self

    def velocity(self, datamodule: Any) -> np.ndarray:
        """Mean picks per period over the window, times the horizon."""
        history = datamodule.history_counts()
        return history[-self.window:].mean(axis=0) * datamodule.horizon_periods

    def predict(self, inputs: tuple[Any, np.ndarray]) -> Slotting:
        """Velocity slotting on this velocity."""
        datamodule, ranked = inputs
        velocity = self.velocity(datamodule)
        return Slotting(self.name, velocity_slotting(velocity, ranked), velocity)


class NaiveVelocitySlotting(_PastVelocity):
    """Baseline: velocity slotting on last period's picks."""

    name = "naive"


class MovingAverageSlotting(_PastVelocity):
    """Baseline: velocity slotting on the mean picks of the last ``window`` periods."""

    name = "moving_average"

    def __init__(self, window: int = 4) -> None:
        if window < 1:
            raise ConfigError(f"baselines.moving_average.window={window} must be at least 1", "set it to 1 or more")
        self.window = window


class ABCSlotting(_PastVelocity):
    """Baseline: class-based (ABC) slotting on the mean picks of the last ``lookback_periods`` periods."""

    name = "abc"

    def __init__(self, lookback_periods: int = 13, a_share: float = 0.8, b_share: float = 0.15) -> None:
        if lookback_periods < 1 or not 0 < a_share < a_share + b_share <= 1:
            raise ConfigError("baselines.abc needs lookback_periods >= 1 and 0 < a_share < a_share + b_share <= 1",
                              "fix baselines.abc")
        self.window, self.a_share, self.b_share = lookback_periods, a_share, b_share

    def predict(self, inputs: tuple[Any, np.ndarray]) -> Slotting:
        """ABC slotting on past velocity."""
        datamodule, ranked = inputs
        velocity = self.velocity(datamodule)
        return Slotting(self.name, abc_slotting(velocity, datamodule.layout, ranked, self.a_share, self.b_share),
                        velocity)
