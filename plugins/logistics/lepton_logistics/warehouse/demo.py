"""Generated order lines (deterministic): SKUs whose pick rates drift, launch and fade, co-picked in families.

Each SKU has a base rate (heavy-tailed: a few fast movers, a long tail), a log-linear trend, a slow seasonal
swing and a random walk; some launch part-way (ramping up) and some are phased out. Orders have 1 + Poisson
lines; after the first line, a line comes from the first line's family with some probability (co-picks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-01-06")  # a Monday
WEEKDAY_VOLUME = (1.1, 1.05, 1.0, 1.0, 1.15, 0.7, 0.45)


def sku_rates(n_skus: int, n_days: int, rng: np.random.Generator, drift: float = 1.0) -> np.ndarray:
    """Relative pick rate per (day, SKU), rows summing to 1; ``drift`` scales trends, swings and walks."""
    week = np.arange(n_days)[:, None] / 7.0
    base = rng.normal(0.0, 1.1, n_skus)
    trend = rng.normal(0.0, 0.05 * drift, n_skus)
    season = rng.uniform(0.0, 0.6 * drift, n_skus) * np.sin(2 * np.pi * (week / rng.uniform(12, 30, n_skus)
                                                                + rng.uniform(0, 1, n_skus)))
    walk = np.cumsum(rng.normal(0.0, 0.06 * drift, (n_days // 7 + 1, n_skus)), axis=0)[(np.arange(n_days) // 7)]
    log_rate = base + trend * (week - week.mean()) + season + walk
    kind = rng.random(n_skus)
    launch = rng.uniform(0.2, 0.8, n_skus) * n_days / 7.0
    ramp = 1.0 / (1.0 + np.exp(-(week - launch) * 1.2))
    fade = 1.0 / (1.0 + np.exp((week - launch) * 0.8))
    rate = np.exp(log_rate) * np.where(kind < 0.12, ramp, 1.0) * np.where(kind > 0.9, fade, 1.0)
    return rate / rate.sum(axis=1, keepdims=True)


def generate_order_lines(n_skus: int = 400, n_days: int = 280, orders_per_day: int = 160, family_size: int = 8,
                         co_pick: float = 0.4, drift: float = 1.0,
                         seed: int = 0) -> pd.DataFrame:
    """Order lines ``date, order_id, sku, qty`` (one SKU at most once per order)."""
    rng = np.random.default_rng(seed)
    rates = sku_rates(n_skus, n_days, rng, drift)
    family = rng.permutation(n_skus) // family_size
    members = {f: np.flatnonzero(family == f) for f in np.unique(family)}
    names = np.array([f"SKU{i:04d}" for i in range(n_skus)])
    rows: list[tuple[int, int, int, int]] = []
    order = 0
    for day in range(n_days):
        weekday = (START + pd.Timedelta(days=day)).dayofweek
        n_orders = rng.poisson(orders_per_day * WEEKDAY_VOLUME[weekday])
        sizes = 1 + rng.poisson(1.8, n_orders)
        draws = rng.choice(n_skus, size=int(sizes.sum()) * 2, p=rates[day])
        cursor = 0
        for size in sizes:
            first = draws[cursor]
            chosen = {int(first)}
            for _ in range(size - 1):
                cursor += 1
                if rng.random() < co_pick:
                    pool = members[family[first]]
                    weights = rates[day, pool]
                    chosen.add(int(rng.choice(pool, p=weights / weights.sum())))
                else:
                    chosen.add(int(draws[cursor]))
            cursor += 1
            for sku in sorted(chosen):
                rows.append((day, order, sku, 1 + int(rng.poisson(0.5))))
            order += 1
    day, order_id, sku, qty = (np.array(c) for c in zip(*rows))
    return pd.DataFrame({
        "date": (START + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
        "order_id": [f"O{o:07d}" for o in order_id],
        "sku": names[sku],
        "qty": qty,
    })
