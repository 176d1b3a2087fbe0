"""PortfolioDataModule: a price table (the user's, or the demo) -> rolling windows of returns, split in time."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset

from lepton_core.errors import ConfigError, DataError
from lepton_finance.portfolio.demo import price_table
from lepton_finance.portfolio.features import feature_count, forecast_targets, window_features
from lepton_finance.portfolio.forecast import ForecastSettings
from lepton_finance.portfolio.prices import PriceColumns, load_prices, price_frame, simple_returns

__all__ = ["PortfolioDataModule"]

MIN_TRAIN_WINDOWS, MIN_VAL_PERIODS, MIN_TEST_REBALANCES = 20, 2, 4


class PortfolioDataModule(L.LightningDataModule):
    """Train on the first dates, validate (early stopping) on the next, backtest on the last ones.

    A training sample is one asset on one date: its last ``window`` returns (and the market's) in, the sum of its
    next ``horizon`` log returns out, so the network is shared by every asset. ``horizon`` is also the
    rebalancing period of the backtest.
    """

    def __init__(
        self,
        path: str | None = None,
        n_assets: int = 24,
        n_days: int = 1764,
        date_column: str = "date",
        asset_column: str = "asset",
        price_column: str = "price",
        window: int = 60,
        horizon: int = 5,
        cov_window: int = 126,
        val_fraction: float = 0.15,
        test_fraction: float = 0.25,
        batch_size: int = 512,
        seed: int = 0,
    ) -> None:
        super().__init__()
        for key, value in (("window", window), ("horizon", horizon), ("cov_window", cov_window), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"data.{key}={value!r} is not a positive whole number", f"set data.{key} to 1 or more")
        if cov_window < 2:
            raise ConfigError(f"data.cov_window={cov_window} is too short for a covariance", "set data.cov_window to 20 or more")
        if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
            raise ConfigError(
                f"data.val_fraction={val_fraction}, data.test_fraction={test_fraction} leave no training dates",
                "use fractions between 0 and 1 that sum to less than 1",
            )
        self.path, self.n_assets, self.n_days = path, int(n_assets), int(n_days)
        self.columns = PriceColumns(date_column, asset_column, price_column)
        self.window, self.horizon, self.cov_window = window, horizon, cov_window
        self.val_fraction, self.test_fraction = float(val_fraction), float(test_fraction)
        self.batch_size, self.seed = batch_size, int(seed)
        self.prices: pd.DataFrame | None = None
        self.tensors: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    # ------------------------------------------------------------------ loading

    def _load(self) -> pd.DataFrame:
        if self.path is None:
            return price_frame(price_table(self.n_assets, self.n_days, self.seed), self.columns, "the demo price table")
        return load_prices(self.path, self.columns)

    def setup(self, stage: str | None = None) -> None:
        """Load and check the prices, split the dates, build the training and validation windows."""
        if self.tensors:
            return
        self.prices = self._load()
        self.log_returns = np.log(self.prices.to_numpy()[1:] / self.prices.to_numpy()[:-1])
        self.simple_returns = simple_returns(self.prices)
        n = len(self.log_returns)
        self.val_start = round(n * (1 - self.val_fraction - self.test_fraction))
        self.test_start = round(n * (1 - self.test_fraction))
        self._check_sizes(n)
        train_returns = self.log_returns[: self.val_start]
        self.scale = float(train_returns.std()) or 1.0
        first = max(self.window, self.cov_window) - 1
        spans = {"train": (first, self.val_start), "val": (self.val_start - 1, self.test_start)}
        for split, (start, stop) in spans.items():
            ends = np.arange(start, stop - self.horizon)
            x = window_features(self.log_returns, ends, self.window, self.scale, self.settings.history)
            y = forecast_targets(self.log_returns, ends, self.horizon, self.scale)
            self.tensors[split] = (torch.from_numpy(x.reshape(-1, x.shape[2])), torch.from_numpy(y.reshape(-1)))

    def _check_sizes(self, n: int) -> None:
        history = max(self.window, self.cov_window)
        need = {
            "training": (self.val_start, history + self.horizon + MIN_TRAIN_WINDOWS),
            "validation": (self.test_start - self.val_start, self.horizon * MIN_VAL_PERIODS + 1),
            "test": (n - self.test_start, self.horizon * MIN_TEST_REBALANCES),
        }
        shares = {"training": 1 - self.val_fraction - self.test_fraction, "validation": self.val_fraction, "test": self.test_fraction}
        short = [name for name, (have, want) in need.items() if have < want]
        if short:
            total = max(math.ceil(want / shares[name]) for name, (_, want) in need.items()) + 1
            name = short[0]
            raise DataError(
                f"the price table has {n + 1} dates; the {name} span gets {need[name][0]} returns, it needs "
                f"{need[name][1]} (window {self.window}, cov_window {self.cov_window}, horizon {self.horizon})",
                f"give at least {total} dates of prices, or shorten data.window / data.cov_window",
            )

    # ------------------------------------------------------------------ Lightning

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(TensorDataset(*self.tensors["train"]), batch_size=self.batch_size, shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(*self.tensors["val"]), batch_size=4096)

    # ------------------------------------------------------------------ for the pipeline

    @property
    def assets(self) -> list[str]:
        """Asset names, in column order."""
        assert self.prices is not None
        return list(self.prices.columns)

    @property
    def settings(self) -> ForecastSettings:
        """What a forecast needs, for the backtest and the bundle."""
        return ForecastSettings(self.window, self.horizon, self.cov_window, self.scale)

    def test_ends(self) -> np.ndarray:
        """Rebalance decisions of the backtest: every ``horizon`` returns from the end of validation."""
        return np.arange(self.test_start - 1, len(self.log_returns) - 1, self.horizon)

    def dates(self) -> pd.DatetimeIndex:
        """The date of each return (its closing date)."""
        assert self.prices is not None
        return self.prices.index[1:]

    def model_kwargs(self) -> dict[str, Any]:
        """Input width of the shared network."""
        return {"n_inputs": feature_count(self.window)}

    def summary(self) -> dict[str, Any]:
        """Dates, assets and spans for the report."""
        dates = self.dates()
        return {
            "source": self.path or "generated demo",
            "assets": len(self.assets),
            "dates": len(dates) + 1,
            "train span": f"{dates[0].date()} .. {dates[self.val_start - 1].date()}",
            "validation span": f"{dates[self.val_start].date()} .. {dates[self.test_start - 1].date()}",
            "backtest span": f"{dates[self.test_start].date()} .. {dates[-1].date()}",
            "training windows": len(self.tensors["train"][1]),
            "rebalance every": f"{self.horizon} dates",
        }

    def input_example(self) -> list[dict[str, Any]]:
        """One request: the last ``history + 1`` price rows (JSON rows, dates as text)."""
        assert self.prices is not None
        tail = self.prices.iloc[-(self.settings.history + 1) :]
        rows = [{self.columns.date: d.strftime("%Y-%m-%d"), **{a: float(v) for a, v in zip(self.assets, values)}}
                for d, values in zip(tail.index, tail.to_numpy())]
        return [{"rows": rows}]
