"""Price tables: wide (a date column, one column per asset) or long (date, asset, price) -> a checked wide table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lepton_core.errors import DataError

__all__ = ["PriceColumns", "load_prices", "price_frame", "simple_returns"]

GAP_FILL_LIMIT = 5  # a missing price is carried forward over at most this many dates (holidays, halts)


class PriceColumns:
    """Column names of a price table: the date column, and for the long format the asset and price columns."""

    def __init__(self, date: str = "date", asset: str = "asset", price: str = "price") -> None:
        self.date, self.asset, self.price = date, asset, price


def load_prices(path: str | Path, columns: PriceColumns, where: str | None = None) -> pd.DataFrame:
    """Read a CSV/Parquet price table (wide or long) and check it (see ``price_frame``)."""
    from lepton_core.tabular.io import read_table

    return price_frame(read_table(path), columns, where or Path(path).name)


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.astype(str).unique()[:3])


def price_frame(frame: pd.DataFrame, columns: PriceColumns, where: str = "the price table") -> pd.DataFrame:
    """Wide float prices indexed by sorted dates; one-line DataError for every defect a user's table can have."""
    if columns.date not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:8]))
        raise DataError(
            f"{where} has no date column '{columns.date}' (columns: {shown})",
            "name the date column 'date' or set data.date_column",
        )
    if columns.asset in frame.columns and columns.price in frame.columns:
        frame = _long_to_wide(frame, columns, where)
    dates = pd.to_datetime(frame[columns.date], errors="coerce", format="mixed")
    if dates.isna().any():
        bad = frame.loc[dates.isna(), columns.date]
        raise DataError(f"{where}: {int(dates.isna().sum())} date(s) cannot be parsed ({_examples(bad)})", "write dates as YYYY-MM-DD")
    if dates.duplicated().any():
        raise DataError(
            f"{where} has duplicate dates ({_examples(frame.loc[dates.duplicated(), columns.date])})",
            "keep one row per date (one closing price per asset and date)",
        )
    prices = frame.drop(columns=[columns.date])
    prices.index = pd.DatetimeIndex(dates, name="date")
    prices.columns = [str(c) for c in prices.columns]
    if prices.shape[1] < 2:
        raise DataError(f"{where} has {prices.shape[1]} asset column(s), at least 2 are needed", "give one price column per asset")
    for name in prices.columns:
        numeric = pd.to_numeric(prices[name], errors="coerce")
        text = numeric.isna() & prices[name].notna()
        if text.any():
            raise DataError(
                f"{where}: asset '{name}' has non-numeric prices ({_examples(prices.loc[text, name])})",
                "give prices as plain numbers (no currency signs or thousands separators)",
            )
        prices[name] = numeric.astype(float)
    prices = prices.sort_index()
    values = prices.to_numpy()
    if not np.isfinite(values[~np.isnan(values)]).all():
        raise DataError(f"{where} has infinite prices", "give finite prices")
    bad = prices.le(0) & prices.notna()
    if bad.to_numpy().any():
        asset = bad.any().idxmax()
        date = bad[asset].idxmax().date()
        raise DataError(
            f"{where}: asset '{asset}' has a non-positive price on {date} ({prices.at[bad[asset].idxmax(), asset]:g})",
            "give positive prices (returns are price ratios); drop or fix that asset",
        )
    return _fill_gaps(prices, where)


def _long_to_wide(frame: pd.DataFrame, columns: PriceColumns, where: str) -> pd.DataFrame:
    keys = frame[[columns.date, columns.asset]].astype(str)
    repeated = keys.duplicated()
    if repeated.any():
        first = keys[repeated].iloc[0]
        raise DataError(
            f"{where} has {int(repeated.sum())} repeated (date, asset) row(s), e.g. {first.iloc[0]} {first.iloc[1]}",
            "keep one price per asset and date",
        )
    wide = frame.pivot(index=columns.date, columns=columns.asset, values=columns.price)
    return wide.reset_index().rename(columns={"index": columns.date})


def _fill_gaps(prices: pd.DataFrame, where: str) -> pd.DataFrame:
    """Carry short gaps forward; an asset listed late shortens the history; longer gaps are an error."""
    empty = [c for c in prices.columns if prices[c].isna().all()]
    if empty:
        raise DataError(f"{where}: asset '{empty[0]}' has no prices", "drop that column")
    prices = prices.ffill(limit=GAP_FILL_LIMIT)
    start = max(prices[c].first_valid_index() for c in prices.columns)
    prices = prices.loc[start:]
    holes = prices.isna().sum()
    if holes.any():
        asset = holes.idxmax()
        raise DataError(
            f"{where}: asset '{asset}' has {int(holes[asset])} missing price(s) in gaps longer than {GAP_FILL_LIMIT} dates",
            "fill those prices or drop that asset",
        )
    return prices


def simple_returns(prices: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Period-over-period simple returns (one row fewer than the prices)."""
    values = np.asarray(prices, dtype=float)
    return values[1:] / values[:-1] - 1.0
