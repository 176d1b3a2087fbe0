"""More training windows for short data: moving-block-bootstrap copies of every series' training history.

A global network fitted on a handful of short series has a few hundred windows to learn from and
loses to exponential smoothing on them. Bootstrapped copies of the series (Bergmeir, Hyndman and
Benítez 2016, "Bagging exponential smoothing methods using STL decomposition and Box-Cox
transformation"; used to train global networks on small data sets by Bandara et al. 2021, "Improving
the accuracy of global forecasting models using time series data augmentation") give it series of the
same shape with other noise:

1. the history before the cutoff, on the log scale when it is strictly positive (multiplicative
   seasons become additive);
2. its STL decomposition (statsmodels, robust, period = the season length; a LOWESS trend when there
   is no season or fewer than two seasons of history);
3. trend + season + the remainder resampled in random blocks of two seasons (at least 8 points), which
   keeps the remainder's short-range autocorrelation; back to the original scale, clipped at zero for
   a nonnegative series.

Copies are cut from the data before a cutoff only (the first validation origin for the fit, the first
test origin for the refit), so they carry nothing of the points they are scored on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from lepton_core.forecasting.series import PreparedSeries
from lepton_core.forecasting.windows import WindowBatch, build_windows

__all__ = ["auto_copies", "bootstrap_copies", "bootstrap_windows", "concat_windows"]

#: ``augment_copies: auto`` adds copies until the training set has about this many windows.
AUTO_TARGET_WINDOWS = 6000
#: and never more copies per series than this.
AUTO_MAX_COPIES = 10


def auto_copies(n_windows: int, target: int = AUTO_TARGET_WINDOWS, max_copies: int = AUTO_MAX_COPIES) -> int:
    """Copies per series that bring ``n_windows`` real training windows near ``target`` (0 when already there)."""
    if n_windows <= 0 or n_windows >= target:
        return 0
    return int(min(max_copies, -(-target // n_windows) - 1))


def _decompose(z: np.ndarray, season: int) -> tuple[np.ndarray, np.ndarray]:
    """(trend + season, remainder) of ``z``."""
    if season > 1 and len(z) >= 2 * season + 1:
        from statsmodels.tsa.seasonal import STL

        fit = STL(z, period=season, robust=True).fit()
        base = np.asarray(fit.trend) + np.asarray(fit.seasonal)
    else:
        from statsmodels.nonparametric.smoothers_lowess import lowess

        base = lowess(z, np.arange(len(z), dtype=float), frac=min(1.0, max(0.3, 8 / len(z))), return_sorted=False)
    return base, z - base


def bootstrap_copies(history: np.ndarray, season: int, copies: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``copies`` series as long as ``history``: its trend and season plus its remainder resampled in blocks."""
    y = np.asarray(history, dtype=float)
    if copies <= 0 or len(y) < 8 or not np.any(y != y[0]):
        return []
    positive = bool(np.all(y > 0))
    base, remainder = _decompose(np.log(y) if positive else y, season)
    block = min(len(y), max(8, 2 * season if season > 1 else 8))
    n = len(y)
    out = []
    for _ in range(copies):
        starts = rng.integers(0, n - block + 1, n // block + 2)
        resampled = np.concatenate([remainder[s : s + block] for s in starts])
        offset = int(rng.integers(0, block))
        z = base + resampled[offset : offset + n]
        copy = np.exp(z) if positive else z
        out.append(np.maximum(copy, 0.0) if np.all(y >= 0) else copy)
    return out


def bootstrap_windows(
    series: PreparedSeries,
    cutoffs: Sequence[int],
    copies: int,
    input_size: int,
    horizon: int,
    covariate_mean: np.ndarray,
    covariate_std: np.ndarray,
    seed: int,
) -> WindowBatch:
    """Every training window of ``copies`` bootstrapped copies of each series' points before its cutoff."""
    from lepton_core.extras import require

    require("statsmodels", "forecast", "data.augment_copies (bootstrapped training series)")
    rng = np.random.default_rng(seed)
    season = series.season_length
    values, starts, covariates, ids, origins = [], [], [], [], []
    for index, y in enumerate(series.values):
        cutoff = int(cutoffs[index])
        for k, copy in enumerate(bootstrap_copies(y[:cutoff], season, copies, rng)):
            values.append(copy)
            starts.append(series.starts[index])
            covariates.append(series.covariates[index][:cutoff])
            ids.append(f"{series.ids[index]}#{k}")
            origins.append(np.arange(1, cutoff - horizon + 1))
    copied = dataclasses.replace(series, ids=tuple(ids), starts=tuple(starts), values=tuple(values), covariates=tuple(covariates))
    return build_windows(copied, origins, input_size, horizon, covariate_mean, covariate_std)


def concat_windows(*batches: WindowBatch) -> WindowBatch:
    """One batch of the windows of several."""
    names = [f.name for f in dataclasses.fields(WindowBatch)]
    return WindowBatch(*(torch.cat([getattr(b, name) for b in batches]) for name in names))
