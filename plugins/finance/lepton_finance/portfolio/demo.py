"""A generated daily price table (date x asset) with structure a forecaster can learn: regimes, clustering, momentum."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["price_table"]

SECTORS = ("tech", "energy", "health", "finance")


def price_table(n_assets: int = 24, n_days: int = 1764, seed: int = 0) -> pd.DataFrame:
    """Wide table: a ``date`` column (business days) and one close-price column per asset.

    Returns follow a factor model: market and sector factors plus GARCH(1,1) idiosyncratic noise. The market
    switches between a calm and a stress regime (Markov chain; stress: three times the volatility, a negative
    drift), volatility clusters, and each asset's drift is a slow AR(1) process (time-series momentum), so
    recent returns carry real but weak information about the next ones.
    """
    rng = np.random.default_rng(seed)
    sector = np.arange(n_assets) % len(SECTORS)
    beta = rng.uniform(0.6, 1.4, n_assets)
    loading = rng.uniform(0.4, 1.0, n_assets)
    regime = np.zeros(n_days, dtype=int)
    for t in range(1, n_days):
        stay = 0.996 if regime[t - 1] == 0 else 0.98
        regime[t] = regime[t - 1] if rng.random() < stay else 1 - regime[t - 1]
    market_vol = np.where(regime == 1, 0.021, 0.007)
    market_drift = np.where(regime == 1, -0.0012, 0.0005)
    market = market_drift + market_vol * rng.standard_normal(n_days)
    sectors = 0.006 * rng.standard_normal((n_days, len(SECTORS)))

    phi, drift_sd = 0.996, 0.0011  # persistent drifts: stationary sd about 28% a year
    drift = np.empty((n_days, n_assets))
    drift[0] = drift_sd * rng.standard_normal(n_assets)
    shocks = drift_sd * np.sqrt(1 - phi**2) * rng.standard_normal((n_days, n_assets))
    for t in range(1, n_days):
        drift[t] = phi * drift[t - 1] + shocks[t]

    long_run, alpha, persistence = 0.012**2, 0.08, 0.9
    variance = np.full(n_assets, long_run)
    noise = np.empty((n_days, n_assets))
    for t in range(n_days):
        noise[t] = np.sqrt(variance) * rng.standard_normal(n_assets)
        variance = long_run * (1 - alpha - persistence) + alpha * noise[t] ** 2 + persistence * variance

    returns = drift + beta * market[:, None] + loading * sectors[:, sector] + noise
    start = rng.uniform(20, 200, n_assets)
    prices = start * np.exp(np.cumsum(returns, axis=0))
    names = [f"{SECTORS[s]}_{i // len(SECTORS) + 1}" for i, s in enumerate(sector)]
    frame = pd.DataFrame(np.round(prices, 4), columns=names)
    frame.insert(0, "date", pd.bdate_range("2018-01-02", periods=n_days).strftime("%Y-%m-%d"))
    return frame
