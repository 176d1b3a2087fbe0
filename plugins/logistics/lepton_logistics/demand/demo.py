"""Generated daily parcel volumes per hub (long format ``unique_id, ds, y`` + known-future calendar covariates).

Each hub has its own level and growth, a weekly profile (busy Mondays, quiet weekends), a peak season
from late November to Christmas with Black Friday / Cyber Monday spikes, a January dip, public holidays
with next-working-day catch-up, and over-dispersed count noise. One hub opens later than the others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKLY = np.array([1.22, 1.08, 1.04, 1.02, 1.1, 0.55, 0.18])
HOLIDAYS = ("01-01", "05-01", "10-03", "12-25", "12-26")


def _holidays(days: pd.DatetimeIndex) -> np.ndarray:
    fixed = days.strftime("%m-%d").isin(HOLIDAYS)
    easter_monday = {pd.Timestamp(d) for d in ("2023-04-10", "2024-04-01", "2025-04-21", "2026-04-06")}
    return np.asarray(fixed | days.isin(list(easter_monday)))


def _peak(days: pd.DatetimeIndex) -> np.ndarray:
    """Peak-season multiplier minus one: ramps up from 20 November to a high before Christmas."""
    doy = days.dayofyear.to_numpy()
    start, top = 324, 354
    ramp = np.clip((doy - start) / (top - start), 0, 1) * (doy <= 358)
    return 0.7 * ramp


def _black_friday(days: pd.DatetimeIndex) -> np.ndarray:
    """1 on the Friday after the fourth Thursday of November and on the Monday after it."""
    out = np.zeros(len(days))
    for year in sorted(set(days.year)):
        november = pd.date_range(f"{year}-11-01", f"{year}-11-30")
        thanksgiving = november[november.dayofweek == 3][3]
        for offset in (1, 4):
            out[days == thanksgiving + pd.Timedelta(days=offset)] = 1.0
    return out


def make_hub_volumes(n_hubs: int = 10, n_days: int = 730, start: str = "2023-01-02", seed: int = 0) -> pd.DataFrame:
    """Daily volumes of ``n_hubs`` hubs over ``n_days`` days, with ``holiday`` and ``peak_season`` covariates."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=n_days, freq="D")
    holiday = _holidays(days)
    peak = _peak(days)
    black_friday = _black_friday(days)
    january = np.asarray(days.month == 1)
    after_holiday = np.roll(holiday, 1) & ~holiday & (days.dayofweek.to_numpy() < 5)
    frames = []
    for hub in range(n_hubs):
        level = rng.lognormal(np.log(1500), 0.6)
        growth = rng.normal(0.15, 0.1)
        weekly = WEEKLY * rng.uniform(0.9, 1.1, 7)
        t = np.arange(n_days) / 365.0
        mean = level * (1 + growth * t) * weekly[days.dayofweek.to_numpy()]
        mean *= 1 + peak * rng.uniform(0.7, 1.3) + 0.8 * black_friday
        mean *= np.where(january, 0.85, 1.0) * np.where(holiday, 0.08, 1.0) * np.where(after_holiday, 1.35, 1.0)
        volume = rng.poisson(mean * rng.gamma(40.0, 1 / 40.0, n_days))
        opened = 0 if hub != n_hubs - 1 or n_hubs < 3 else n_days // 3
        frames.append(pd.DataFrame({
            "unique_id": f"hub_{hub + 1:02d}",
            "ds": days[opened:],
            "y": volume[opened:].astype(float),
            "holiday": holiday[opened:].astype(float),
            "peak_season": (peak + black_friday)[opened:],
        }))
    return pd.concat(frames, ignore_index=True)
