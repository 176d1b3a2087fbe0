"""Deterministic demo transaction log: a BG/NBD-like buy-till-you-die process plus what that model cannot see."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CATEGORIES", "make_transactions"]

CATEGORIES = ("grocery", "apparel", "home", "electronics")
CATEGORY_PRICE = np.array([1.0, 1.6, 2.2, 4.0])
# how much each preferred category scales the dropout probability (grocery buyers stay, gadget buyers leave)
CATEGORY_DROPOUT = np.array([0.6, 1.0, 0.9, 1.6])


def _season(day_of_year: np.ndarray) -> np.ndarray:
    """Purchase intensity over the year: a peak in late November / December, a dip in late summer."""
    holiday = np.exp(-0.5 * ((day_of_year - 345) / 18.0) ** 2)
    summer = np.exp(-0.5 * ((day_of_year - 220) / 25.0) ** 2)
    return 1.0 + 2.0 * holiday - 0.4 * summer


def make_transactions(
    n_customers: int = 4000,
    n_days: int = 912,
    start: str = "2022-01-03",
    seed: int = 0,
) -> pd.DataFrame:
    """One row per order: ``order_id, customer_id, date, amount, category`` over ``n_days`` days.

    Each customer arrives in the first 75% of the span and buys at a personal rate (gamma-distributed
    mean gap of ~5 weeks) until, after some purchase, they drop out (beta-distributed probability): the
    process BG/NBD + Gamma-Gamma assume. On top, what those models cannot capture: a quarter of the
    customers buy on a regular rhythm (near-constant gaps, so a long silence means they have left); the
    gaps before a dropout stretch and the baskets shrink (customers fade before they leave); a seasonal
    holiday peak; spend that drifts up or down per customer; and a preferred category that changes both
    basket size and loyalty.
    """
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp(start)
    first_doy = origin.dayofyear
    rows: list[tuple[int, int, float, int]] = []
    for customer in range(n_customers):
        arrival = rng.uniform(0, 0.75 * n_days)
        favourite = rng.choice(len(CATEGORIES), p=[0.4, 0.25, 0.2, 0.15])
        mean_gap = 7.0 * rng.gamma(2.5, 2.0)
        regular = rng.random() < 0.25
        dropout = min(rng.beta(1.0, 9.0) * CATEGORY_DROPOUT[favourite], 0.9)
        dies_after = rng.geometric(dropout) if dropout > 0 else 10**6
        spend_level = rng.gamma(4.0, 6.0)
        drift = rng.normal(0.0, 0.25)  # log spend change per year
        t, purchases = arrival, 0
        while t < n_days and purchases < dies_after:
            day = int(t)
            season = _season(np.asarray([(first_doy + day - 1) % 365 + 1]))[0]
            fade = max(0, 4 - (dies_after - purchases))  # 1..3 over the last three purchases before dropout
            category = favourite if rng.random() < 0.7 else rng.integers(len(CATEGORIES))
            basket = spend_level * CATEGORY_PRICE[category] * np.exp(drift * day / 365 + rng.normal(0, 0.35))
            rows.append((customer, day, round(float(basket * 0.8**fade), 2), int(category)))
            purchases += 1
            if regular:
                gap = mean_gap * rng.lognormal(0.0, 0.12)
            else:
                gap = rng.exponential(mean_gap) / season
            t += max(gap * (1.0 + 0.6 * max(0, 3 - (dies_after - purchases))), 1.0)
    customer, day, amount, category = (np.asarray(c) for c in zip(*rows))
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{c:05d}" for c in customer],
            "date": (origin + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
            "amount": amount,
            "category": np.asarray(CATEGORIES)[category],
        }
    )
    frame = frame.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "order_id", [f"O{i:07d}" for i in range(len(frame))])
    return frame
