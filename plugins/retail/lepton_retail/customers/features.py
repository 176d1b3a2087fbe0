"""Per-customer inputs from purchase days, shared by training and serving: the event sequence the network
reads, its static summary, the BG/NBD inputs and the RFM scores and segments.

Purchases are counted per customer and day (two orders on one day are one purchase of their summed
value, filed under the category of the larger order), as BG/NBD counts them. ``as_of`` is the last day of
the history: recency is ``as_of - last purchase``, the customer's age ``as_of - first purchase``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_FEATURES",
    "SEGMENTS",
    "STATIC_FEATURES",
    "CustomerArrays",
    "Normaliser",
    "daily_purchases",
    "encode_customers",
    "rfm_edges",
    "rfm_scores",
    "rfm_segments",
]

EVENT_FEATURES = ("log_gap_days", "log_amount", "log_days_before_as_of", "day_of_year_sin", "day_of_year_cos", "first_purchase", "present")
STATIC_FEATURES = ("log_recency_days", "log_age_days", "log_purchases", "log_mean_amount", "log_total_spend", "log_mean_gap_days", "log_last_gap_ratio")
# RFM segments by recency score (rows 1..5) and frequency score (columns 1..5), the usual RFM grid
_GRID = (
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"),
    ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
)
SEGMENTS = ("Champions", "Loyal", "Potential loyalists", "New customers", "Promising", "Need attention",
            "About to sleep", "At risk", "Can't lose them", "Hibernating")


def daily_purchases(frame: pd.DataFrame) -> pd.DataFrame:
    """Orders ``customer, day, amount[, category]`` -> one row per customer and day, sorted by customer and day."""
    frame = frame.sort_values(["customer", "day", "amount"], kind="stable")
    grouped = frame.groupby(["customer", "day"], sort=True)
    out = grouped["amount"].sum().to_frame()
    if "category" in frame:
        out["category"] = grouped["category"].last()
    return out.reset_index()


@dataclass(frozen=True)
class CustomerArrays:
    """Encoded customers: ``events`` (n, L, E) left-padded, ``categories`` (n, L) (0 = none), ``statics`` (n, S),
    and the raw summaries (``x``, ``t_x``, ``T`` in weeks; ``m`` mean repeat spend; recency days, purchases, mean spend)."""

    events: np.ndarray
    categories: np.ndarray
    statics: np.ndarray
    summary: pd.DataFrame


def encode_customers(
    purchases: pd.DataFrame,
    as_of: np.ndarray | int,
    max_events: int,
    category_index: Mapping[str, int] | None = None,
) -> CustomerArrays:
    """Encode the daily purchases of customers ``0..n-1`` (column ``customer`` holds that index) up to ``as_of``."""
    n = int(purchases["customer"].max()) + 1 if len(purchases) else 0
    customer = purchases["customer"].to_numpy(np.int64)
    day = purchases["day"].to_numpy(np.int64)
    amount = purchases["amount"].to_numpy(np.float64)
    as_of = np.broadcast_to(np.asarray(as_of, dtype=np.int64), (n,))
    starts = np.searchsorted(customer, np.arange(n + 1))
    count = np.diff(starts)
    first, last = day[starts[:-1]], day[starts[1:] - 1]
    previous = np.concatenate([[0], day[:-1]])
    is_first = np.zeros(len(day), bool)
    is_first[starts[:-1]] = True
    gap = np.where(is_first, 0, day - previous).astype(np.float64)
    total = np.bincount(customer, amount, minlength=n)
    repeat_total = total - amount[starts[:-1]]
    mean_gap = np.where(count > 1, (last - first) / np.maximum(count - 1, 1), 0.0)
    last_gap = np.where(count > 1, gap[starts[1:] - 1], 0.0)
    recency = (as_of - last).astype(np.float64)
    age = (as_of - first).astype(np.float64)
    statics = np.stack(
        [
            np.log1p(recency), np.log1p(age), np.log1p(count), np.log1p(total / count), np.log1p(total),
            np.log1p(mean_gap), np.log((last_gap + 1) / (mean_gap + 1)),
        ],
        axis=1,
    )
    from_end = starts[1:][customer] - 1 - np.arange(len(day))
    keep = from_end < max_events
    rows, slots = customer[keep], max_events - 1 - from_end[keep]
    doy = 2 * np.pi * (pd.to_datetime(day[keep], unit="D").dayofyear.to_numpy() - 1) / 365.25
    values = np.stack(
        [
            np.log1p(gap[keep]), np.log1p(amount[keep]), np.log1p(as_of[rows] - day[keep]),
            np.sin(doy), np.cos(doy), is_first[keep].astype(float), np.ones(len(rows)),
        ],
        axis=1,
    )
    events = np.zeros((n, max_events, len(EVENT_FEATURES)), np.float32)
    events[rows, slots] = values
    categories = np.zeros((n, max_events), np.int64)
    if category_index is not None and "category" in purchases:
        codes = purchases["category"].astype(str).map(category_index).fillna(0).to_numpy(np.int64)
        categories[rows, slots] = codes[keep]
    summary = pd.DataFrame(
        {
            "x": count - 1,
            "t_x": (last - first) / 7.0,
            "T": age / 7.0,
            "m": np.where(count > 1, repeat_total / np.maximum(count - 1, 1), 0.0),
            "recency_days": recency,
            "purchases": count,
            "mean_amount": total / count,
            "total_spend": total,
        }
    )
    return CustomerArrays(events, categories, statics.astype(np.float32), summary)


@dataclass(frozen=True)
class Normaliser:
    """Standardises the event and static features with training means and standard deviations."""

    event_mean: np.ndarray
    event_std: np.ndarray
    static_mean: np.ndarray
    static_std: np.ndarray

    @classmethod
    def fit(cls, arrays: CustomerArrays) -> Normaliser:
        """Statistics over the real (not padded) events and over every customer."""
        present = arrays.events[..., -1] > 0
        real = arrays.events[present]
        spread = lambda values: np.where(values.std(0) > 1e-6, values.std(0), 1.0)
        event_mean, event_std = real.mean(0), spread(real)
        # the presence flag stays 0/1 so padding stays exactly zero
        event_mean[-1], event_std[-1] = 0.0, 1.0
        return cls(event_mean, event_std, arrays.statics.mean(0), spread(arrays.statics))

    def apply(self, arrays: CustomerArrays) -> tuple[np.ndarray, np.ndarray]:
        """Standardised (events, statics); padded slots stay zero."""
        present = arrays.events[..., -1:] > 0
        events = np.where(present, (arrays.events - self.event_mean) / self.event_std, 0.0).astype(np.float32)
        statics = ((arrays.statics - self.static_mean) / self.static_std).astype(np.float32)
        return events, statics

    def to_state(self) -> dict[str, list[float]]:
        """Plain JSON for the bundle."""
        return {k: [float(v) for v in getattr(self, k)] for k in ("event_mean", "event_std", "static_mean", "static_std")}

    @classmethod
    def from_state(cls, state: Mapping[str, Sequence[float]]) -> Normaliser:
        """Rebuild from :meth:`to_state`."""
        return cls(*(np.asarray(state[k], dtype=np.float32) for k in ("event_mean", "event_std", "static_mean", "static_std")))


def rfm_edges(summary: pd.DataFrame) -> dict[str, list[float]]:
    """Quintile edges (20/40/60/80%) of recency days, purchases and mean spend over the customers given."""
    levels = [0.2, 0.4, 0.6, 0.8]
    return {
        "recency_days": np.quantile(summary["recency_days"], levels).tolist(),
        "purchases": np.quantile(summary["purchases"], levels).tolist(),
        "mean_amount": np.quantile(summary["mean_amount"], levels).tolist(),
    }


def rfm_scores(summary: pd.DataFrame, edges: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """R, F, M scores 1..5 (5: most recent, most frequent, highest spend); ties go to the lower score."""
    def score(column: str) -> np.ndarray:
        return 1 + np.searchsorted(np.asarray(edges[column]), summary[column].to_numpy(), side="left")

    return pd.DataFrame({"r": 6 - score("recency_days"), "f": score("purchases"), "m": score("mean_amount")}, index=summary.index)


def rfm_segments(scores: pd.DataFrame) -> np.ndarray:
    """The named segment of each customer from its R and F scores."""
    grid = np.asarray(_GRID, dtype=object)
    return grid[scores["r"].to_numpy() - 1, scores["f"].to_numpy() - 1]

