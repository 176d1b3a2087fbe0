"""Long-format series (``unique_id, ds, y`` + covariates): read, validate and put on a regular time grid.

Rules, applied in this order by :func:`prepare_series`:

- Required columns must exist; ``y`` and every covariate must be numeric (a non-numeric value is a
  DataError naming the column and a few offending values); ``ds`` must parse as dates.
- Duplicate ``(unique_id, ds)`` rows are a DataError (aggregate them first).
- The frequency is ``freq`` when given, else inferred from the timestamps (:func:`infer_frequency`).
- Missing timestamps: every series is reindexed onto the regular grid between its first and last
  timestamp. Missing ``y`` (absent rows or empty cells) is filled by ``missing``: ``"zero"`` (absent
  means nothing happened: sales, parcels), ``"interpolate"`` (linear in time, for levels such as
  prices or concentrations) or ``"error"``. Missing covariates are forward- then back-filled.
- Short series: a series shorter than ``min_length`` is a DataError naming it and the length needed
  (``short_series="error"``) or is dropped and listed in the summary (``short_series="drop"``).
- All-zero series are kept; metrics whose scale is zero for them (MASE) leave them out of the
  overall mean, and models forecast them on their own (scaled) terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from lepton_core.errors import ConfigError, DataError

__all__ = [
    "MissingRule",
    "PreparedSeries",
    "ShortSeriesRule",
    "format_timestamp",
    "infer_frequency",
    "prepare_series",
    "read_table",
    "season_length",
]

MissingRule = Literal["zero", "interpolate", "error"]
ShortSeriesRule = Literal["error", "drop"]

SEASON_BY_FREQ = {"h": 24, "min": 60, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4, "Y": 1, "A": 1, "S": 60}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; a missing, empty or unreadable file is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}", "check data.path")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() in {".parquet", ".pq"} else pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty", "provide a file with a header row and data rows") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}", "provide a CSV or Parquet file") from None
    if frame.empty:
        raise DataError(f"{path} has no data rows", "provide a file with data rows")
    return frame


def format_timestamp(stamp: pd.Timestamp) -> str:
    """ISO text of a timestamp: the date alone at midnight ('2024-05-01'), else date and time."""
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat()


def _base_freq(freq: str) -> str:
    """The unit of a pandas frequency string: '2W-SUN' -> 'W', 'MS' -> 'M', 'QE-DEC' -> 'Q', 'h' -> 'h'."""
    code = freq.lstrip("0123456789").split("-")[0]
    if code in {"h", "H"}:
        return "h"
    if code in {"min", "T"}:
        return "min"
    if code in {"s", "S"}:
        return "S"
    for unit in ("B", "D", "W", "M", "Q", "Y", "A"):
        if code.startswith(unit):
            return unit
    return code


def season_length(freq: str) -> int:
    """The usual seasonal period of a frequency (D -> 7, W -> 52, M -> 12, Q -> 4, h -> 24, Y -> 1)."""
    return SEASON_BY_FREQ.get(_base_freq(freq), 1)


def infer_frequency(ds: pd.Series, ids: pd.Series) -> str:
    """Infer the pandas frequency from the timestamps of the longest series (falls back to the modal step)."""
    lengths = ids.value_counts()
    longest = ds[ids == lengths.index[0]].sort_values()
    if len(longest) < 3:
        raise DataError(
            f"cannot infer the frequency: the longest series has {len(longest)} timestamps",
            "give data.freq (e.g. D, W, MS, h)",
        )
    freq = pd.infer_freq(pd.DatetimeIndex(longest))
    if freq is not None:
        return freq
    step = longest.diff().dropna().mode().iloc[0]
    offsets = {pd.Timedelta(hours=1): "h", pd.Timedelta(days=1): "D", pd.Timedelta(days=7): "W"}
    if step in offsets:
        return offsets[step]
    days = step / pd.Timedelta(days=1)
    if 28 <= days <= 31:
        return "MS" if (longest.dt.day == 1).mean() > 0.5 else "ME"
    if 89 <= days <= 92:
        return "QS" if (longest.dt.day == 1).mean() > 0.5 else "QE"
    raise DataError(f"cannot infer the frequency (most common step {step})", "give data.freq (e.g. D, W, MS, h)")


@dataclass(frozen=True)
class PreparedSeries:
    """Validated series on a regular grid: one float array per series (and per covariate), sorted by id."""

    ids: tuple[str, ...]
    starts: tuple[pd.Timestamp, ...]
    values: tuple[np.ndarray, ...]
    covariates: tuple[np.ndarray, ...]
    covariate_names: tuple[str, ...]
    freq: str
    dropped: tuple[str, ...] = ()
    filled_points: int = 0
    all_zero: tuple[str, ...] = field(default_factory=tuple)

    def timestamps(self, index: int) -> pd.DatetimeIndex:
        """The timestamps of series ``index``."""
        return pd.date_range(self.starts[index], periods=len(self.values[index]), freq=self.freq)

    @property
    def season_length(self) -> int:
        """Seasonal period implied by the frequency."""
        return season_length(self.freq)

    def summary(self) -> dict[str, object]:
        """Counts for the report."""
        lengths = [len(v) for v in self.values]
        return {
            "series": len(self.ids),
            "frequency": self.freq,
            "points": int(sum(lengths)),
            "shortest series": int(min(lengths)),
            "longest series": int(max(lengths)),
            "filled missing points": self.filled_points,
            "all-zero series": len(self.all_zero),
            "dropped short series": len(self.dropped),
        }


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.astype(str).unique()[:3])


def _numeric(frame: pd.DataFrame, column: str, hint: str) -> pd.Series:
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        raise DataError(
            f"column '{column}' is not numeric ({int(bad.sum())} rows like {_examples(raw[bad])})",
            hint,
        )
    return numbers.astype(float)


def prepare_series(
    frame: pd.DataFrame,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    covariates: Sequence[str] = (),
    freq: str | None = None,
    missing: MissingRule = "interpolate",
    min_length: int = 1,
    short_series: ShortSeriesRule = "error",
    length_hint: str = "lower task.horizon",
) -> PreparedSeries:
    """Validate a long-format frame and return regular series (the rules are in the module docstring)."""
    if missing not in ("zero", "interpolate", "error"):
        raise ConfigError(f"data.missing={missing!r} is not a rule", "use zero, interpolate or error")
    if short_series not in ("error", "drop"):
        raise ConfigError(f"data.short_series={short_series!r} is not a rule", "use error or drop")
    if frame.empty:
        raise DataError("the series table has no rows", "provide rows of unique_id, ds, y")
    needed = [id_col, time_col, target_col, *covariates]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise DataError(
            f"column(s) {', '.join(absent)} missing (found: {', '.join(map(str, frame.columns[:8]))})",
            "rename the columns or set data.id_col / data.time_col / data.target_col / data.covariates",
        )
    ids = frame[id_col].astype(str)
    if frame[id_col].isna().any():
        raise DataError(f"column '{id_col}' has {int(frame[id_col].isna().sum())} empty ids", "fill or drop those rows")
    ds = pd.to_datetime(frame[time_col], errors="coerce", format="mixed")
    bad_dates = ds.isna()
    if bad_dates.any():
        raise DataError(
            f"column '{time_col}' has {int(bad_dates.sum())} unparseable dates like {_examples(frame[time_col][bad_dates])}",
            "write dates as YYYY-MM-DD (or YYYY-MM-DD HH:MM)",
        )
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_localize(None)
    y = _numeric(frame, target_col, "clean the column or set data.target_col to the numeric target")
    table = pd.DataFrame({"unique_id": ids, "ds": ds, "y": y})
    for name in covariates:
        table[name] = _numeric(frame, name, "clean the covariate or remove it from data.covariates")
    duplicated = table.duplicated(["unique_id", "ds"], keep=False)
    if duplicated.any():
        first = table[duplicated].iloc[0]
        raise DataError(
            f"{int(duplicated.sum())} duplicate ({id_col}, {time_col}) rows, e.g. ({first['unique_id']}, {first['ds'].date()})",
            "aggregate duplicates (sum or mean) so each series has one row per timestamp",
        )
    freq = freq or infer_frequency(table["ds"], table["unique_id"])
    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ConfigError(f"data.freq={freq!r} is not a pandas frequency", "use D, W, MS, ME, QS, h...") from None
    return _regularise(table, list(covariates), freq, missing, min_length, short_series, length_hint)


def _regularise(
    table: pd.DataFrame,
    covariates: list[str],
    freq: str,
    missing: MissingRule,
    min_length: int,
    short_series: ShortSeriesRule,
    length_hint: str,
) -> PreparedSeries:
    ids, starts, values, covs, dropped, all_zero = [], [], [], [], [], []
    filled = 0
    for uid, group in table.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True):
        grid = pd.date_range(group["ds"].iloc[0], group["ds"].iloc[-1], freq=freq)
        if len(grid) == 0 or not group["ds"].isin(grid).all():
            off = group.loc[~group["ds"].isin(grid), "ds"].iloc[0] if len(grid) else group["ds"].iloc[0]
            raise DataError(
                f"series '{uid}': timestamp {off} is not on the {freq} grid starting {group['ds'].iloc[0]}",
                "give data.freq matching the data or align the timestamps",
            )
        series = group.set_index("ds").reindex(grid)
        gaps = int(series["y"].isna().sum())
        if gaps and missing == "error":
            raise DataError(
                f"series '{uid}' has {gaps} missing timestamps or values",
                "fill them, or set data.missing=zero or data.missing=interpolate",
            )
        if len(series) < min_length:
            if short_series == "drop":
                dropped.append(str(uid))
                continue
            raise DataError(
                f"series '{uid}' has {len(series)} points but the horizon and backtest need at least {min_length}",
                f"{length_hint}, or set data.short_series=drop to leave such series out",
            )
        filled += gaps
        y = series["y"]
        y = y.fillna(0.0) if missing == "zero" else y.interpolate(method="linear", limit_direction="both")
        ids.append(str(uid))
        starts.append(grid[0])
        values.append(y.to_numpy(np.float64))
        covs.append(series[covariates].ffill().bfill().fillna(0.0).to_numpy(np.float64).reshape(len(series), -1))
        if not np.any(values[-1]):
            all_zero.append(str(uid))
    if not ids:
        raise DataError(
            f"every series is shorter than the {min_length} points the horizon and backtest need",
            length_hint,
        )
    return PreparedSeries(
        ids=tuple(ids),
        starts=tuple(starts),
        values=tuple(values),
        covariates=tuple(covs),
        covariate_names=tuple(covariates),
        freq=freq,
        dropped=tuple(dropped),
        filled_points=filled,
        all_zero=tuple(all_zero),
    )
