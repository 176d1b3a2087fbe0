"""Lag windows over prepared series and the split by forecast origin (the datamodule is in :mod:`.datamodule`).

Training batches: ``batch_size`` windows, smaller (not under 32) when there are few windows, and the
windows repeated when needed, so that every epoch has at least ``min_steps_per_epoch`` steps.

A window at origin ``t`` of a series ``y`` holds the ``input_size`` values before ``t`` (left-padded
with zeros and a 0 mask when the series starts later), the covariates over those steps and the
``horizon`` steps after, the calendar features of step ``t``, and the target ``y[t : t + horizon]``.

Origins of a series of length ``T`` (``H`` = horizon, ``n`` = backtest windows, ``s`` = backtest step):

- test (backtest): ``T - H - k*s`` for ``k = 0..n-1``; ``k = 0`` is the last-horizon evaluation;
- validation: the ``H`` origins whose targets end just before the first test origin;
- training: every origin whose targets end before the first validation target;
- selection (:meth:`~lepton_core.forecasting.datamodule.ForecastDataModule.selection_origins`): ``selection_windows`` of the validation
  origins, the last one first, spread over the validation span; the deployed combination of network and
  statistical models is chosen there (:mod:`lepton_core.forecasting.combination`), never on a test origin.

So a series needs ``4H + (n-1)s`` points at least (one training window, its validation and the
backtest); :class:`~lepton_core.forecasting.datamodule.ForecastDataModule` raises a DataError naming the series and the limit otherwise
(or drops such series with ``short_series=drop``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lepton_core.forecasting.calendar import calendar_feature_count, calendar_features
from lepton_core.forecasting.series import (
    PreparedSeries,
)

__all__ = ["WindowBatch", "build_windows", "minimum_length"]


@dataclass(frozen=True)
class WindowBatch:
    """Model inputs of a set of windows (``history, mask, covariates, calendar``) and their targets."""

    history: torch.Tensor
    mask: torch.Tensor
    covariates: torch.Tensor
    calendar: torch.Tensor
    target: torch.Tensor

    def inputs(self) -> tuple[torch.Tensor, ...]:
        """The model's positional inputs."""
        return self.history, self.mask, self.covariates, self.calendar

    def __len__(self) -> int:
        return int(self.history.shape[0])


def minimum_length(horizon: int, backtest_windows: int, backtest_step: int) -> int:
    """Points a series needs for one training window, its validation windows and the backtest."""
    return 4 * horizon + (backtest_windows - 1) * backtest_step


def build_windows(
    series: PreparedSeries,
    origins: Sequence[np.ndarray],
    input_size: int,
    horizon: int,
    covariate_mean: np.ndarray,
    covariate_std: np.ndarray,
) -> WindowBatch:
    """Windows of every series ``i`` at ``origins[i]`` (first forecast index; targets must lie in the series)."""
    histories, masks, covs, cals, targets = [], [], [], [], []
    n_cov = len(series.covariate_names)
    for index, picks in enumerate(origins):
        picks = np.asarray(picks, dtype=int)
        if picks.size == 0:
            continue
        y = series.values[index]
        padded = np.concatenate([np.zeros(input_size), y])
        observed = np.concatenate([np.zeros(input_size), np.ones(len(y))])
        c = (series.covariates[index] - covariate_mean) / covariate_std
        c_padded = np.concatenate([np.repeat(c[:1], input_size, 0), c], axis=0) if n_cov else np.zeros((len(padded), 0))
        history_view = np.lib.stride_tricks.sliding_window_view(padded, input_size)
        mask_view = np.lib.stride_tricks.sliding_window_view(observed, input_size)
        target_view = np.lib.stride_tricks.sliding_window_view(np.concatenate([y, np.zeros(horizon)]), horizon)
        cov_view = np.lib.stride_tricks.sliding_window_view(
            np.concatenate([c_padded, np.zeros((horizon, n_cov))], axis=0), input_size + horizon, axis=0
        )
        histories.append(history_view[picks])
        masks.append(mask_view[picks])
        targets.append(target_view[picks])
        covs.append(np.swapaxes(cov_view[picks], 1, 2))
        cals.append(calendar_features(series.timestamps(index)[picks], series.freq))

    def as_tensor(parts: list[np.ndarray], empty_shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(parts).astype(np.float32) if parts else np.zeros(empty_shape, np.float32))

    n_cal = calendar_feature_count(series.freq)
    return WindowBatch(
        history=as_tensor(histories, (0, input_size)),
        mask=as_tensor(masks, (0, input_size)),
        covariates=as_tensor(covs, (0, input_size + horizon, n_cov)),
        calendar=as_tensor(cals, (0, n_cal)),
        target=as_tensor(targets, (0, horizon)),
    )
