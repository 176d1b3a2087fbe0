"""The LightningDataModule of a forecasting task: series from a file or demo data -> lag windows split by origin.

The windows and origins are described in :mod:`lepton_core.forecasting.windows`. On short data the
training windows are topped up with bootstrapped copies of the training history
(:mod:`lepton_core.forecasting.augment`; ``augment_copies``: ``auto`` adds copies up to about 6,000
windows and at most 10 per series, 0 turns it off), and :meth:`ForecastDataModule.refit_windows` gives the
windows of a refit on everything before the first test origin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import ConfigError
from lepton_core.forecasting.augment import auto_copies, bootstrap_windows, concat_windows
from lepton_core.forecasting.calendar import calendar_feature_count
from lepton_core.forecasting.combination import ForecastCombination
from lepton_core.forecasting.series import (
    MissingRule,
    PreparedSeries,
    ShortSeriesRule,
    format_timestamp,
    prepare_series,
    read_table,
)
from lepton_core.forecasting.windows import WindowBatch, build_windows, minimum_length
from lepton_core.tabular.io import write_table

__all__ = ["ForecastDataModule"]


class ForecastDataModule(L.LightningDataModule):
    """Long-format series from ``path`` (CSV/Parquet) or from ``demo`` (a DataFrame or a callable returning one).

    After ``setup()``: ``series`` (PreparedSeries), ``train`` / ``val`` (WindowBatch; ``train`` with its
    bootstrapped copies), ``test_origins`` (one array of backtest origins per series, last horizon first),
    ``fit_cutoffs`` / ``refit_cutoffs`` (per series, the first point the fit / the refit does not train on)
    and the covariate scaling.
    """

    def __init__(
        self,
        horizon: int,
        input_size: int,
        path: str | None = None,
        demo: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        covariates: Sequence[str] = (),
        freq: str | None = None,
        missing: MissingRule = "interpolate",
        short_series: ShortSeriesRule = "error",
        backtest_windows: int = 3,
        backtest_step: int | None = None,
        batch_size: int = 256,
        max_train_windows: int | None = None,
        min_steps_per_epoch: int = 50,
        seed: int = 0,
        selection_windows: int = 3,
        augment_copies: int | str = "auto",
    ) -> None:
        super().__init__()
        if int(horizon) < 1 or int(input_size) < 1:
            raise ConfigError(f"horizon={horizon} and input_size={input_size} must be at least 1", "use positive sizes")
        if int(backtest_windows) < 1:
            raise ConfigError(f"data.backtest_windows={backtest_windows} must be at least 1", "use 1 or more")
        if path is None and demo is None:
            raise ConfigError("no data: data.path is null and the task has no demo data", "set data.path=FILE")
        self.horizon, self.input_size = int(horizon), int(input_size)
        self.path, self.demo = path, demo
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col
        self.covariate_names = tuple(covariates)
        self.freq, self.missing, self.short_series = freq, missing, short_series
        self.backtest_windows = int(backtest_windows)
        self.backtest_step = int(backtest_step or horizon)
        self.batch_size, self.max_train_windows, self.seed = int(batch_size), max_train_windows, int(seed)
        self.min_steps_per_epoch = int(min_steps_per_epoch)
        if int(selection_windows) < 1:
            raise ConfigError(f"data.selection_windows={selection_windows} must be at least 1", "use 1 or more")
        self.selection_windows = int(selection_windows)
        if augment_copies != "auto" and (isinstance(augment_copies, bool) or not isinstance(augment_copies, int) or augment_copies < 0):
            raise ConfigError(f"data.augment_copies={augment_copies!r} must be auto or a whole number >= 0", "use auto, 0 (off) or e.g. 10")
        self.augment_copies = augment_copies
        self.series: PreparedSeries | None = None

    # ----------------------------------------------------------------------------------- loading

    def load_frame(self) -> pd.DataFrame:
        """The raw long-format table (file, or the demo data)."""
        if self.path is not None:
            return read_table(self.path)
        return self.demo() if callable(self.demo) else self.demo

    def export_demo(self, path: Path) -> Path:
        """Write the demo series (long format) to ``path``, CSV or Parquet by extension: `lepton data export`."""
        if self.demo is None:
            raise ConfigError("this task has no demo data", "set data.path to a CSV or Parquet table")
        return write_table(self.demo() if callable(self.demo) else self.demo, path)

    def setup(self, stage: str | None = None) -> None:
        """Read, validate, regularise, split by origin and build training/validation windows."""
        if self.series is not None:
            return
        need = minimum_length(self.horizon, self.backtest_windows, self.backtest_step)
        self.series = prepare_series(
            self.load_frame(),
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            covariates=self.covariate_names,
            freq=self.freq,
            missing=self.missing,
            min_length=need,
            short_series=self.short_series,
            length_hint=f"lower task.horizon (now {self.horizon}) or data.backtest_windows (now {self.backtest_windows})",
        )
        self.test_origins, val_origins, train_origins = [], [], []
        self.val_origins = val_origins
        self.fit_cutoffs, self.refit_cutoffs = [], []
        for y in self.series.values:
            first_test = len(y) - self.horizon - (self.backtest_windows - 1) * self.backtest_step
            val_start = first_test - 2 * self.horizon + 1
            self.test_origins.append(np.array([len(y) - self.horizon - k * self.backtest_step for k in range(self.backtest_windows)]))
            val_origins.append(np.arange(val_start, first_test - self.horizon + 1))
            train_origins.append(np.arange(1, val_start - self.horizon + 1))
            self.fit_cutoffs.append(val_start)
            self.refit_cutoffs.append(first_test)
        self._fit_covariate_scaling(train_origins)
        real = self.windows(self._cap(train_origins))
        self.copies = auto_copies(len(real)) if self.augment_copies == "auto" else int(self.augment_copies)
        self.real_train_windows = len(real)
        self.train = self._with_copies(real, self.fit_cutoffs, self.seed)
        self.val = self.windows(val_origins)

    def _with_copies(self, real: WindowBatch, cutoffs: Sequence[int], seed: int) -> WindowBatch:
        """``real`` plus the windows of ``self.copies`` bootstrapped copies of each series' points before its cutoff."""
        if not self.copies:
            return real
        copies = bootstrap_windows(
            self.series, cutoffs, self.copies, self.input_size, self.horizon, self.covariate_mean, self.covariate_std, seed
        )
        return concat_windows(real, copies)

    def refit_windows(self) -> WindowBatch:
        """Training windows for a refit before the test: every window whose targets end before the first test
        origin (the validation span included), with bootstrapped copies of that history as for the fit."""
        origins = [np.arange(1, cutoff - self.horizon + 1) for cutoff in self.refit_cutoffs]
        return self._with_copies(self.windows(self._cap(origins)), self.refit_cutoffs, self.seed + 1)

    def refit_share(self) -> float:
        """Real windows a refit adds (those of the validation span) over the real training windows."""
        added = sum(refit - fit for fit, refit in zip(self.fit_cutoffs, self.refit_cutoffs))
        return added / max(self.real_train_windows, 1)

    def _fit_covariate_scaling(self, train_origins: list[np.ndarray]) -> None:
        n_cov = len(self.covariate_names)
        seen = [c[: o[-1] + self.horizon] for c, o in zip(self.series.covariates, train_origins) if o.size]
        stacked = np.concatenate(seen) if seen and n_cov else np.zeros((1, n_cov))
        self.covariate_mean = stacked.mean(0) if n_cov else np.zeros(0)
        self.covariate_std = stacked.std(0) + 1e-6 if n_cov else np.ones(0)

    def _cap(self, origins: list[np.ndarray]) -> list[np.ndarray]:
        total = sum(o.size for o in origins)
        if not self.max_train_windows or total <= self.max_train_windows:
            return origins
        rng = np.random.default_rng(self.seed)
        keep = self.max_train_windows / total
        return [np.sort(o[rng.random(o.size) < keep]) for o in origins]

    def selection_origins(self) -> list[np.ndarray]:
        """Per series, ``selection_windows`` validation origins (the last first, spaced over the validation span)."""
        step = max(1, self.horizon // self.selection_windows)
        picked = []
        for origins in self.val_origins:
            if origins.size == 0:
                picked.append(origins)
                continue
            candidates = origins[-1] - step * np.arange(self.selection_windows)
            picked.append(candidates[candidates >= origins[0]])
        return picked

    def windows(self, origins: Sequence[np.ndarray]) -> WindowBatch:
        """Windows of every series at the given origins (one array per series)."""
        return build_windows(
            self.series, origins, self.input_size, self.horizon, self.covariate_mean, self.covariate_std
        )

    # ----------------------------------------------------------------------------------- loaders

    def train_dataloader(self) -> TensorBatchLoader:
        """Shuffled training windows (:meth:`shuffled`)."""
        return self.shuffled(self.train)

    def shuffled(self, windows: WindowBatch) -> TensorBatchLoader:
        """Shuffled batches of ``windows``; few windows get smaller batches (not under 32), then repeats, so that
        an epoch has at least ``min_steps_per_epoch`` steps."""
        n = len(windows)
        batch = min(self.batch_size, max(32, n // max(self.min_steps_per_epoch, 1)))
        repeats = max(1, -(-self.min_steps_per_epoch * batch // max(n, 1)))
        tensors = (*windows.inputs(), windows.target)
        if repeats > 1:
            tensors = tuple(t.repeat(repeats, *([1] * (t.dim() - 1))) for t in tensors)
        return TensorBatchLoader(*tensors, batch_size=batch, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> TensorBatchLoader:
        return TensorBatchLoader(*self.val.inputs(), self.val.target, batch_size=4096)

    # ----------------------------------------------------------------------------------- contract helpers

    def model_kwargs(self) -> dict[str, int]:
        """Sizes the forecaster needs."""
        return {
            "input_size": self.input_size,
            "horizon": self.horizon,
            "n_covariates": len(self.covariate_names),
            "n_calendar": calendar_feature_count(self.series.freq),
            "season_length": self.series.season_length,
        }

    def summary(self) -> dict[str, Any]:
        """Series counts and window counts for the report."""
        return {
            **self.series.summary(),
            "horizon": self.horizon,
            "training windows": len(self.train),
            **({"bootstrapped copies per series": self.copies} if self.copies else {}),
            "validation windows": len(self.val),
            "backtest origins per series": self.backtest_windows,
        }

    def export_state(self, combination: ForecastCombination | None = None) -> dict[str, Any]:
        """What the predictor needs to rebuild inputs from a raw history (and the deployed combination, once chosen)."""
        return {
            **({"combination": combination.to_state()} if combination is not None else {}),
            "freq": self.series.freq,
            "input_size": self.input_size,
            "horizon": self.horizon,
            "covariates": list(self.covariate_names),
            "covariate_mean": [float(v) for v in self.covariate_mean],
            "covariate_std": [float(v) for v in self.covariate_std],
            "season_length": self.series.season_length,
        }

    def history_items(self, count: int = 2, combination: ForecastCombination | None = None) -> list[dict[str, Any]]:
        """The predictor's inputs for the first ``count`` series at their first test origin: their real histories
        (as long as the deployed models read). For parity checks against the backtest; never stored in a bundle."""
        items = []
        needed = combination.history_needed if combination is not None else 0
        for index in range(min(count, len(self.series.ids))):
            origin = int(self.test_origins[index][0])
            start = 0 if needed is None else max(0, origin - max(self.input_size, needed))
            covariates = self.series.covariates[index]
            items.append(
                {
                    "unique_id": self.series.ids[index],
                    "ds": [format_timestamp(t) for t in self.series.timestamps(index)[start:origin]],
                    "y": [float(v) for v in self.series.values[index][start:origin]],
                    "covariates": {
                        name: [float(v) for v in covariates[start : origin + self.horizon, j]]
                        for j, name in enumerate(self.covariate_names)
                    },
                }
            )
        return items

    def input_example(self, count: int = 2, combination: ForecastCombination | None = None) -> list[dict[str, Any]]:
        """Made-up histories on the first series' calendar (never a real series): each the seasonal profile of a
        series' history before its first test origin (the mean per position in the season) with covariates at
        their training mean, ``input_size`` points long, or as many as the deployed statistical models read."""
        examples = []
        season = max(1, int(self.series.season_length or 1))
        needed = combination.history_needed if combination is not None else 0
        for index in range(min(count, len(self.series.ids))):
            origin = int(self.test_origins[index][0])
            start = 0 if needed is None else max(0, origin - max(self.input_size, needed))
            history = np.asarray(self.series.values[index][:origin], dtype=np.float64)
            phases = np.arange(history.size) % season
            profile = [float(np.nanmean(history[phases == p])) if (phases == p).any() else 0.0 for p in range(season)]
            stamps = self.series.timestamps(index)
            examples.append(
                {
                    "unique_id": f"example-{index + 1}",
                    "ds": [format_timestamp(t) for t in stamps[start:origin]],
                    "y": [profile[t % season] for t in range(start, origin)],
                    "covariates": {
                        name: [float(self.covariate_mean[j])] * (origin + self.horizon - start)
                        for j, name in enumerate(self.covariate_names)
                    },
                }
            )
        return examples
