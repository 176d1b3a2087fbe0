"""Deterministic demo data: store x item daily sales, and user-item interactions with latent tastes."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_interactions", "make_sales"]


def make_sales(
    n_stores: int = 5,
    n_items: int = 10,
    n_days: int = 730,
    intermittent_share: float = 0.2,
    start: str = "2023-01-02",
    seed: int = 0,
) -> pd.DataFrame:
    """Daily unit sales per store x item in the long format ``unique_id, ds, y, price, promo``.

    Each series: an item level times a store factor, a linear trend, a weekly profile (weekend peak), a
    yearly cycle (summer or winter items), promotions (about 7% of days; 20-30% off; sales lift by
    price elasticity plus a promo effect) and negative-binomial noise. ``intermittent_share`` of the
    items sell rarely (mostly zero days). Price and promo are known in the future (planned).
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n_days, freq="D")
    t = np.arange(n_days)
    weekday = days.dayofweek.to_numpy()
    day_of_year = days.dayofyear.to_numpy()
    frames = []
    n_rare = round(intermittent_share * n_items)
    item_level = np.exp(rng.normal(2.8, 0.6, n_items))
    item_level[:n_rare] = rng.uniform(0.15, 0.6, n_rare)
    item_price = np.round(np.exp(rng.normal(1.5, 0.6, n_items)), 2)
    item_weekly = 1 + rng.uniform(0.2, 0.6, (n_items, 1)) * np.array([-0.15, -0.2, -0.1, 0.0, 0.25, 0.6, 0.3])
    item_phase = rng.choice([0.0, np.pi], n_items) + rng.normal(0, 0.3, n_items)
    item_yearly = rng.uniform(0.1, 0.4, n_items)
    elasticity = rng.uniform(1.0, 2.5, n_items)
    store_factor = np.exp(rng.normal(0, 0.35, n_stores))
    store_trend = rng.normal(0.25, 0.2, n_stores)
    for s in range(n_stores):
        for i in range(n_items):
            promo = (rng.random(n_days) < 0.07).astype(float)
            discount = promo * rng.uniform(0.2, 0.3, n_days)
            price = np.round(item_price[i] * (1 - discount), 2)
            yearly = 1 + item_yearly[i] * np.sin(2 * np.pi * day_of_year / 365.25 + item_phase[i])
            trend = 1 + store_trend[s] * t / n_days
            lift = (price / item_price[i]) ** (-elasticity[i]) * (1 + 0.4 * promo)
            mean = item_level[i] * store_factor[s] * trend * item_weekly[i, weekday] * yearly * lift
            dispersion = 8.0
            sales = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))
            frames.append(
                pd.DataFrame(
                    {"unique_id": f"S{s + 1}_I{i + 1:02d}", "ds": days, "y": sales.astype(float), "price": price, "promo": promo}
                )
            )
    return pd.concat(frames, ignore_index=True)


def make_interactions(
    n_users: int = 1500,
    n_items: int = 600,
    interactions_per_user: int = 30,
    n_tastes: int = 8,
    popularity_skew: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Implicit interactions ``user, item, rating, timestamp`` drawn from latent tastes and a popularity skew.

    Users and items have latent taste vectors (a few strong genres each); a user picks items with
    probability proportional to exp(affinity) times a Zipf-like popularity weight, without repeats.
    The number of interactions per user varies (geometric around ``interactions_per_user``, at least
    5); timestamps increase per user and ratings (1-5) follow affinity.
    """
    rng = np.random.default_rng(seed)
    user_taste = rng.dirichlet(np.full(n_tastes, 0.3), n_users)
    item_taste = rng.dirichlet(np.full(n_tastes, 0.3), n_items)
    affinity = 4.0 * (user_taste @ item_taste.T) * n_tastes / 2
    rank = rng.permutation(n_items) + 1
    log_popularity = -popularity_skew * np.log(rank)
    logits = affinity + log_popularity
    counts = np.clip(rng.geometric(1 / interactions_per_user, n_users), 5, n_items // 3)
    users, items, ratings, stamps = [], [], [], []
    start = pd.Timestamp("2024-01-01").value // 10**9
    for u in range(n_users):
        weights = np.exp(logits[u] - logits[u].max())
        chosen = rng.choice(n_items, size=counts[u], replace=False, p=weights / weights.sum())
        score = affinity[u, chosen]
        rating = np.clip(np.round(1 + 4 * (score - score.min()) / (np.ptp(score) + 1e-9) + rng.normal(0, 0.5, len(chosen))), 1, 5)
        times = start + np.sort(rng.integers(0, 180 * 86400, len(chosen)))
        users.append(np.full(len(chosen), u + 1))
        items.append(chosen + 1)
        ratings.append(rating)
        stamps.append(times)
    return pd.DataFrame(
        {
            "user": np.concatenate(users),
            "item": np.concatenate(items),
            "rating": np.concatenate(ratings).astype(int),
            "timestamp": np.concatenate(stamps),
        }
    )
