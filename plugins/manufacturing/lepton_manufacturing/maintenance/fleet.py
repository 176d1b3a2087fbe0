"""Fleets of run-to-failure sensor histories: NASA C-MAPSS text files, a long CSV/Parquet table, or generated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lepton_core import DataError

__all__ = [
    "CMAPSS_COLUMNS",
    "SensorFleet",
    "generate_fleet",
    "load_fleet",
    "read_cmapss",
    "read_long_table",
]

UNIT, TIME = "unit", "time"
SETTINGS = [f"setting_{i}" for i in range(1, 4)]
SENSORS = [f"sensor_{i}" for i in range(1, 22)]
CMAPSS_COLUMNS = [UNIT, TIME, *SETTINGS, *SENSORS]


@dataclass
class SensorFleet:
    """Sensor histories with columns ``unit``, ``time`` and numeric channels, sorted by unit then time.

    ``train`` units run to failure (their last row is the failure). ``test`` units, when given, stop
    before failure and ``test_rul`` (indexed by unit) holds the cycles each had left at its last row.
    """

    train: pd.DataFrame
    channels: list[str]
    source: str
    test: pd.DataFrame | None = None
    test_rul: pd.Series | None = None


def _read_cmapss_file(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep=r"\s+", header=None)
    if frame.shape[1] != len(CMAPSS_COLUMNS):
        raise DataError(
            f"{path.name} has {frame.shape[1]} columns, C-MAPSS files have {len(CMAPSS_COLUMNS)} "
            "(unit, cycle, 3 settings, 21 sensors)",
            "pass NASA C-MAPSS train_/test_ files, or a long CSV with data.format=table",
        )
    frame.columns = CMAPSS_COLUMNS
    return _sorted(frame, path.name)


def _sorted(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if frame.empty:
        raise DataError(f"{name} has no rows", "pass a file with sensor readings")
    return frame.sort_values([UNIT, TIME], kind="stable").reset_index(drop=True)


def read_cmapss(path: Path, subset: str | None = None) -> SensorFleet:
    """Read ``train_<subset>.txt`` (+ ``test_<subset>.txt`` and ``RUL_<subset>.txt`` when present)."""
    if path.is_file():
        match = re.fullmatch(r"train_(\w+)\.txt", path.name)
        if match is None:
            raise DataError(f"{path.name} is not a C-MAPSS training file (train_<subset>.txt)", "point data.path at it")
        folder, subset = path.parent, match.group(1)
    else:
        folder = path
        found = sorted(p.name[6:-4] for p in folder.glob("train_*.txt"))
        if subset is None:
            if len(found) != 1:
                listed = ", ".join(found) or "none"
                raise DataError(
                    f"{folder} holds {len(found)} C-MAPSS training files ({listed})",
                    "choose one with data.subset=FD001 (or put train_<subset>.txt in the folder)",
                )
            subset = found[0]
        elif subset not in found:
            raise DataError(f"{folder} has no train_{subset}.txt", f"choose data.subset among {found or 'none'}")
    train = _read_cmapss_file(folder / f"train_{subset}.txt")
    test_path, rul_path = folder / f"test_{subset}.txt", folder / f"RUL_{subset}.txt"
    if not test_path.is_file():
        return SensorFleet(train, [*SETTINGS, *SENSORS], f"C-MAPSS {subset}")
    if not rul_path.is_file():
        raise DataError(f"{test_path.name} has no {rul_path.name} beside it", "add the RUL file or remove the test file")
    test = _read_cmapss_file(test_path)
    rul = pd.read_csv(rul_path, sep=r"\s+", header=None).iloc[:, 0].to_numpy(float)
    units = test[UNIT].unique()
    if len(rul) != len(units):
        raise DataError(
            f"{rul_path.name} has {len(rul)} values for {len(units)} test units", "use the RUL file of the same subset"
        )
    return SensorFleet(train, [*SETTINGS, *SENSORS], f"C-MAPSS {subset}", test, pd.Series(rul, index=units))


def read_long_table(path: Path, unit_column: str, time_column: str, channels: list[str] | None) -> SensorFleet:
    """Read a long CSV/Parquet table: one row per unit and time step, one column per sensor."""
    frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    missing = [c for c in (unit_column, time_column, *(channels or [])) if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path.name} lacks column(s) {', '.join(missing)} (it has {', '.join(map(str, frame.columns[:12]))})",
            "set data.unit_column, data.time_column and data.sensor_columns to columns of the file",
        )
    if channels is None:
        channels = [c for c in frame.columns if c not in (unit_column, time_column) and pd.api.types.is_numeric_dtype(frame[c])]
        if not channels:
            raise DataError(f"{path.name} has no numeric sensor column", "add sensor columns or set data.sensor_columns")
    for column in channels:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            example = frame[column].astype(str).iloc[0]
            raise DataError(f"sensor column '{column}' is not numeric (values like '{example}')", "clean the column")
        gaps = int(frame[column].isna().sum())
        if gaps:
            raise DataError(f"sensor column '{column}' has {gaps} missing values", "fill or drop them before training")
    frame = frame.rename(columns={unit_column: UNIT, time_column: TIME})[[UNIT, TIME, *channels]]
    return SensorFleet(_sorted(frame, path.name), list(channels), f"table {path.name}")


def load_fleet(
    path: str | None,
    data_format: str,
    subset: str | None,
    unit_column: str,
    time_column: str,
    sensor_columns: list[str] | None,
) -> SensorFleet:
    """Read the fleet at ``path`` in ``data_format`` ('auto', 'cmapss' or 'table')."""
    source = Path(path)
    if not source.exists():
        raise DataError(f"data path not found: {source}", "check data.path")
    if data_format not in ("auto", "cmapss", "table"):
        raise DataError(f"unknown data.format '{data_format}'", "use auto, cmapss or table")
    is_cmapss = source.is_dir() or source.suffix.lower() == ".txt"
    if data_format == "cmapss" or (data_format == "auto" and is_cmapss):
        fleet = read_cmapss(source, subset)
        if sensor_columns:
            unknown = [c for c in sensor_columns if c not in fleet.channels]
            if unknown:
                raise DataError(f"unknown C-MAPSS column(s) {', '.join(unknown)}", f"choose among {', '.join(fleet.channels)}")
            fleet.channels = list(sensor_columns)
        return fleet
    return read_long_table(source, unit_column, time_column, sensor_columns)


def generate_fleet(n_units: int, n_test_units: int, seed: int) -> SensorFleet:
    """A deterministic C-MAPSS-like fleet: exponential wear that drifts 14 of 21 sensors, plus noise.

    Each unit starts with some initial wear, degrades at its own rate and fails when its damage reaches
    one; test units are cut at a random point of their life and their remaining cycles are recorded.
    """
    rng = np.random.default_rng(seed)
    base = rng.uniform(5.0, 600.0, len(SENSORS))
    informative = np.zeros(len(SENSORS), bool)
    informative[rng.choice(len(SENSORS), 14, replace=False)] = True
    effect = np.where(informative, rng.choice([-1.0, 1.0], len(SENSORS)) * rng.uniform(0.004, 0.02, len(SENSORS)), 0.0)
    noise = np.where(informative, rng.uniform(0.0008, 0.003, len(SENSORS)), 0.0)

    def unit_history(unit: int, cut: bool) -> tuple[pd.DataFrame, float]:
        life = int(rng.integers(130, 330))
        wear0, sharpness = rng.uniform(0.0, 0.15), rng.uniform(3.0, 6.0)
        stop = int(rng.uniform(0.3, 0.95) * life) if cut else life
        progress = np.arange(1, stop + 1) / life
        damage = wear0 + (1 - wear0) * np.expm1(sharpness * progress) / np.expm1(sharpness)
        shift = damage[:, None] * effect[None, :] * base
        jitter = rng.normal(0.0, 1.0, (stop, len(SENSORS))) * noise * base
        sensors = base + shift + jitter
        settings = rng.normal(0.0, [0.002, 0.0003, 0.0], (stop, 3)) + [0.0, 0.0, 100.0]
        frame = pd.DataFrame(np.column_stack([settings, sensors]), columns=[*SETTINGS, *SENSORS])
        frame.insert(0, TIME, np.arange(1, stop + 1))
        frame.insert(0, UNIT, unit)
        return frame, float(life - stop)

    train = pd.concat([unit_history(u, False)[0] for u in range(1, n_units + 1)], ignore_index=True)
    tests = [unit_history(u, True) for u in range(1, n_test_units + 1)]
    test = pd.concat([t[0] for t in tests], ignore_index=True) if tests else None
    rul = pd.Series([t[1] for t in tests], index=range(1, n_test_units + 1)) if tests else None
    return SensorFleet(train, [*SETTINGS, *SENSORS], "generated fleet", test, rul)
