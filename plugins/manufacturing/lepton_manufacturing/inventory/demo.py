"""Generated daily demand for spare parts and materials (long format ``sku, date, demand``) and their SKU parameters.

Every SKU has its own level and trend (some growing, some declining), a weekly profile (production runs on
weekdays, little on Saturday, almost nothing on Sunday) and an annual cycle. A third of the SKUs are
intermittent (demand on a few days only, in lumps). Some SKUs see a few unannounced shocks (a week or two of
a multiplied demand: a line ramp-up, a rush order) and one a lasting step change halfway through. Counts are
over-dispersed (Poisson-gamma). One SKU is introduced later than the others.

Parameters per SKU: lead time (days), holding cost (per unit per day, about 25%/year of the unit price),
stock-out cost (per unit short, several times the unit margin) and order cost (per purchase order).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["make_part_demand", "make_part_parameters"]

WEEKLY = np.array([1.15, 1.1, 1.1, 1.05, 1.0, 0.45, 0.15])


def _sku(index: int) -> str:
    return f"P{index + 1:03d}"


def make_part_demand(n_skus: int = 30, n_days: int = 730, start: str = "2023-01-02", seed: int = 0) -> pd.DataFrame:
    """Daily demand of ``n_skus`` parts over ``n_days`` days (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n_days, freq="D")
    t = np.arange(n_days) / 365.0
    weekday = days.dayofweek.to_numpy()
    frames = []
    for index in range(n_skus):
        intermittent = index % 3 == 2
        level = rng.lognormal(np.log(6.0 if intermittent else 40.0), 0.6)
        trend = rng.normal(0.1, 0.25)
        annual = rng.uniform(0.0, 0.35) * np.sin(2 * np.pi * (t + rng.uniform()))
        mean = level * np.clip(1 + trend * t, 0.3, None) * (1 + annual) * (WEEKLY * rng.uniform(0.9, 1.1, 7))[weekday]
        if index % 4 == 1:
            for _ in range(rng.integers(2, 5)):
                begin = rng.integers(0, n_days - 14)
                mean[begin : begin + rng.integers(5, 15)] *= rng.uniform(1.8, 3.0)
        if index == 5 and n_days > 60:
            mean[n_days // 2 :] *= 1.6
        if intermittent:
            occurs = rng.random(n_days) < rng.uniform(0.15, 0.4)
            demand = np.where(occurs, rng.poisson(mean * rng.gamma(2.0, 1.5, n_days)), 0)
        else:
            demand = rng.poisson(mean * rng.gamma(25.0, 1 / 25.0, n_days))
        first = n_days // 4 if index == n_skus - 1 and n_skus > 3 else 0
        frames.append(pd.DataFrame({"sku": _sku(index), "date": days[first:], "demand": demand[first:].astype(float)}))
    return pd.concat(frames, ignore_index=True)


def make_part_parameters(skus: Sequence[str], max_lead_time: int = 14, seed: int = 0) -> pd.DataFrame:
    """Lead time, holding, stock-out and order cost of each SKU (deterministic for a seed and the SKU names)."""
    rng = np.random.default_rng(seed + 1)
    unit_price = rng.lognormal(np.log(20.0), 0.8, len(skus))
    return pd.DataFrame(
        {
            "sku": list(skus),
            "lead_time": rng.integers(2, max(3, max_lead_time + 1), len(skus)),
            "holding_cost": np.round(unit_price * 0.25 / 365, 4),
            "stockout_cost": np.round(unit_price * rng.uniform(0.3, 1.0, len(skus)), 2),
            "order_cost": np.round(rng.uniform(10.0, 40.0, len(skus)), 2),
        }
    )
