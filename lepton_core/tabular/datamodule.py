"""TabularDataModule: a table -> validated target -> train/val/test split -> fitted preprocessing -> tensor batches.

Subclass it per task. What a subclass may override:

- ``demo_frame()``: the table used when ``path`` is None (default: ConfigError asking for ``data.path``).
- ``encode_target(values)``: raw target column -> numpy array (default: a float regression target;
  non-numeric values raise DataError). Classification overrides it and sets ``stratify = True``.
- ``target_dtype``: dtype of the target tensor (default float32).

After ``setup()``:

- ``frames[split]``: the raw rows of each split (features, plus the id column when given), dropped
  columns removed; ``targets[split]``: encoded targets (numpy).
- ``tensors[split]``: ``(x_num, x_cat, y)``; the loaders serve these as TensorBatchLoader batches.
- ``preprocessor``: the TabularPreprocessor fitted on the training split only.

Splits: random (stratified when ``stratify``), or out-of-time when ``time_column`` is given: rows are
ordered by time, the earliest go to train, the next to validation, the latest to test.

``streaming=True`` (a Parquet ``path`` larger than memory): the table is read in record batches, never
whole (lepton_core.tabular.streaming). Rows are split by a seeded hash of their position; ``frames``,
``targets`` and ``tensors`` hold a uniform sample of at most ``streaming_sample_rows`` rows per split
(preprocessor fit, baselines, evaluation), and the training loader streams every training row,
sharded by DDP rank. ``fit_engine="spark"`` fits the preprocessing on every training row of the
streamed table with Spark aggregations instead of on the sample (``spark_master``: the session's master);
``preprocessor_state`` is a state fitted beforehand (``launcher=spark`` fits it on the driver once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular.io import read_table, write_table
from lepton_core.tabular.preprocessing import TabularPreprocessor

__all__ = ["SPLITS", "TabularDataModule", "json_rows", "typical_frame_rows", "typical_rows"]

SPLITS = ("train", "val", "test")
MIN_ROWS = 20


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: numpy scalars -> Python, NaN/NaT -> None, timestamps -> ISO text."""
    rows = []
    for record in frame.to_dict(orient="records"):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                row[str(key)] = None
            elif isinstance(value, pd.Timestamp):
                row[str(key)] = value.isoformat()
            elif hasattr(value, "item"):
                item = value.item()
                row[str(key)] = None if isinstance(item, float) and math.isnan(item) else item
            else:
                row[str(key)] = value
        rows.append(row)
    return rows


def typical_rows(preprocessor: TabularPreprocessor, id_column: str | None = None) -> list[dict[str, Any]]:
    """Two made-up input rows from a fitted preprocessor: each numeric column at its training median, then mean;
    each categorical column at its most frequent, then second most frequent category; ids ``example-1``/``-2``.

    What a bundle shows as its input example: typical values of every feature, and no row of the training data.
    """
    rows: list[dict[str, Any]] = []
    for rank in range(2):
        row: dict[str, Any] = {}
        for column in preprocessor.columns:
            if column in preprocessor.numeric:
                row[column] = float(preprocessor.median[column] if rank == 0 else preprocessor.mean[column])
            else:
                vocabulary = preprocessor.vocabulary[column]
                row[column] = vocabulary[min(rank, len(vocabulary) - 1)]
        if id_column:
            row[id_column] = f"example-{rank + 1}"
        rows.append(row)
    return rows


def typical_frame_rows(frame: pd.DataFrame, id_column: str | None = None) -> list[dict[str, Any]]:
    """Two made-up rows summarising a raw frame column by column: numbers at their median, then mean; dates at
    their median date; anything else at its most frequent, then second most frequent value; ids ``example-N``.

    For inputs that are not the preprocessor's columns (raw fields derived into features): still no real row.
    """
    rows: list[dict[str, Any]] = [{}, {}]
    for column in frame.columns:
        values = frame[column].dropna()
        for rank, row in enumerate(rows):
            row[str(column)] = None if values.empty else _typical_value(values, rank)
    if id_column:
        for rank, row in enumerate(rows):
            row[id_column] = f"example-{rank + 1}"
    return rows


def _typical_value(values: pd.Series, rank: int) -> Any:
    if pd.api.types.is_bool_dtype(values) or not (
        pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    ):
        dates = pd.to_datetime(values.astype(str), errors="coerce", format="mixed")
        if dates.notna().all() and not pd.api.types.is_bool_dtype(values):
            return dates.median().isoformat()
        counts = values.value_counts()
        return json_rows(pd.DataFrame({"v": [counts.index[min(rank, len(counts) - 1)]]}))[0]["v"]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.median().isoformat()
    return float(values.median() if rank == 0 else values.mean())


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class TabularDataModule(L.LightningDataModule):
    """Reads, validates, splits and encodes a table; serves (x_num, x_cat, y) batches from memory."""

    stratify: ClassVar[bool] = False
    target_dtype: ClassVar[torch.dtype] = torch.float32

    def __init__(
        self,
        path: str | None = None,
        target: str | None = None,
        features: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        drop: Sequence[str] | None = None,
        id_column: str | None = None,
        time_column: str | None = None,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        batch_size: int | str = "auto",
        eval_batch_size: int = 8192,
        max_categories: int = 200,
        seed: int = 0,
        streaming: bool = False,
        streaming_sample_rows: int = 100_000,
        fit_engine: str = "pandas",
        spark_master: str | None = None,
        preprocessor_state: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.target = target
        self.features = _as_list(features) or None
        self.numeric = _as_list(numeric)
        self.categorical = _as_list(categorical)
        self.drop = _as_list(drop)
        self.id_column = id_column
        self.time_column = time_column
        self.val_fraction = float(val_fraction)
        self.test_fraction = float(test_fraction)
        if batch_size != "auto" and (not str(batch_size).isdigit() or int(batch_size) < 1):
            raise ConfigError(f"batch_size={batch_size!r} is not a positive integer", "use an integer or 'auto'")
        self.batch_size: int | str = batch_size if batch_size == "auto" else int(batch_size)
        self.eval_batch_size = int(eval_batch_size)
        self.max_categories = int(max_categories)
        self.seed = int(seed)
        self.streaming = bool(streaming)
        self.streaming_sample_rows = int(streaming_sample_rows)
        if fit_engine not in ("pandas", "spark"):
            raise ConfigError(f"data.fit_engine={fit_engine!r} is not an engine", "use pandas or spark")
        if fit_engine == "spark" and not self.streaming:
            raise ConfigError(
                "data.fit_engine=spark fits on a streamed Parquet table", "set data.streaming=true as well"
            )
        self.fit_engine = fit_engine
        self.spark_master = spark_master
        self.preprocessor_state = dict(preprocessor_state) if preprocessor_state else None
        self.stream: Any = None
        self.stream_sample: Any = None
        self.preprocessor: TabularPreprocessor | None = None
        self.frames: dict[str, pd.DataFrame] = {}
        self.targets: dict[str, np.ndarray] = {}
        self.tensors: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self.n_rows_dropped_for_missing_target = 0
        if not 0 < self.val_fraction < 1 or not 0 < self.test_fraction < 1 or self.val_fraction + self.test_fraction >= 1:
            raise ConfigError(
                f"val_fraction={val_fraction} and test_fraction={test_fraction} leave no training rows",
                "use fractions in (0, 1) that sum to less than 1",
            )

    # ------------------------------------------------------------------ subclass points

    def demo_frame(self) -> pd.DataFrame:
        """The table to use without ``data.path``; this task has none."""
        raise ConfigError("this task has no demo data", "set data.path to a CSV or Parquet table")

    def export_demo(self, path: Path) -> Path:
        """Write the demo table to ``path`` (CSV or Parquet by extension), as `lepton data export` does."""
        return write_table(self.demo_frame(), path)

    def encode_target(self, values: pd.Series) -> np.ndarray:
        """A numeric regression target as float32; text values raise DataError."""
        parsed = pd.to_numeric(values, errors="coerce")
        bad = values[parsed.isna()]
        if len(bad):
            raise DataError(
                f"target column '{self.target}' must be numeric but has text like {bad.astype(str).iloc[0]!r}",
                "clean the target column or choose another one with data.target",
            )
        return parsed.to_numpy(dtype=np.float32)

    # ------------------------------------------------------------------ loading

    def load_frame(self) -> pd.DataFrame:
        """The raw table: ``read_table(path)``, its bounded sample when streaming, or the demo table."""
        if self.streaming:
            from lepton_core.tabular.streaming import open_sample

            self.stream, self.stream_sample = open_sample(self)
            return self.stream_sample.frame
        return read_table(self.path) if self.path else self.demo_frame()

    def _check_columns(self, frame: pd.DataFrame) -> None:
        columns = [str(c) for c in frame.columns]
        shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
        if not self.target:
            raise ConfigError("no target column given", f"set data.target to one of: {shown}")
        if self.target not in frame.columns:
            raise DataError(f"target column '{self.target}' not found (columns: {shown})", "set data.target")
        unknown_drop = [c for c in self.drop if c not in frame.columns]
        if unknown_drop:
            raise DataError(f"data.drop names unknown column(s) {', '.join(unknown_drop)}", "fix data.drop")
        for key, column in (("data.id_column", self.id_column), ("data.time_column", self.time_column)):
            if column and column not in frame.columns:
                raise DataError(f"{key} '{column}' not found (columns: {shown})", f"fix {key}")
            if column and column in self.drop:
                raise DataError(f"{key} '{column}' is also in data.drop", f"remove it from data.drop or unset {key}")
        if self.target in self.drop:
            raise DataError(f"the target '{self.target}' is in data.drop", "remove it from data.drop")

    def feature_columns(self, frame: pd.DataFrame) -> list[str]:
        """The listed features, or every column but target, id, time and dropped ones."""
        reserved = {self.target, self.id_column, self.time_column, *self.drop}
        if self.features:
            clash = [c for c in self.features if c in reserved]
            if clash:
                raise DataError(f"feature list includes reserved column(s) {', '.join(clash)}", "fix data.features")
            absent = [c for c in self.features if c not in frame.columns]
            if absent:
                raise DataError(f"feature column(s) not in the table: {', '.join(absent)}", "fix data.features")
            return list(self.features)
        columns = [str(c) for c in frame.columns if c not in reserved]
        if not columns:
            raise DataError("no feature columns left besides target, id, time and dropped ones", "add columns")
        return columns

    # ------------------------------------------------------------------ splitting

    def _time_order(self, frame: pd.DataFrame) -> np.ndarray:
        column = frame[self.time_column]
        if column.isna().any():
            raise DataError(
                f"time column '{self.time_column}' has {int(column.isna().sum())} missing value(s)",
                "fill them or drop those rows",
            )
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            keys = column
        else:
            keys = pd.to_datetime(column, errors="coerce", format="mixed")
            if keys.isna().any():
                bad = column[keys.isna()].astype(str).iloc[0]
                raise DataError(
                    f"time column '{self.time_column}' has values that are not dates or numbers, like {bad!r}",
                    "use ISO dates (2024-01-31) or numbers",
                )
        return np.argsort(keys.to_numpy(), kind="stable")

    def split_indices(self, frame: pd.DataFrame, y: np.ndarray) -> dict[str, np.ndarray]:
        """Row positions of each split: out-of-time when ``time_column`` is set, else random/stratified."""
        if self.stream_sample is not None:
            return self.stream_sample.splits
        n = len(frame)
        n_test = max(1, round(n * self.test_fraction))
        n_val = max(1, round(n * self.val_fraction))
        if self.time_column:
            order = self._time_order(frame)
            n_train = n - n_val - n_test
            return {"train": order[:n_train], "val": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
        from sklearn.model_selection import train_test_split

        positions = np.arange(n)
        stratify = y if self.stratify and np.unique(y, return_counts=True)[1].min() >= 3 else None
        rest, test = train_test_split(positions, test_size=n_test, random_state=self.seed, stratify=stratify)
        stratify_rest = y[rest] if stratify is not None else None
        train, val = train_test_split(rest, test_size=n_val, random_state=self.seed, stratify=stratify_rest)
        return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}

    # ------------------------------------------------------------------ setup

    def setup(self, stage: str | None = None) -> None:
        """Load, validate, split, fit preprocessing on train, encode every split (once)."""
        if self.tensors:
            return
        frame = self.load_frame()
        self._check_columns(frame)
        frame = frame.drop(columns=self.drop)
        missing_target = frame[self.target].isna()
        if str(frame[self.target].dtype) in ("object", "str", "string"):
            missing_target |= frame[self.target].astype(str).str.strip() == ""
        self.n_rows_dropped_for_missing_target = int(missing_target.sum())
        frame = frame.loc[~missing_target].reset_index(drop=True)
        if len(frame) < MIN_ROWS:
            raise DataError(
                f"only {len(frame)} row(s) with a target value; at least {MIN_ROWS} are needed",
                "give a larger table",
            )
        y = self.encode_target(frame[self.target])
        features = self.feature_columns(frame)
        splits = self.split_indices(frame, y)
        keep = [*features, *([self.id_column] if self.id_column else [])]
        self.preprocessor = self.fit_preprocessor(frame.iloc[splits["train"]], features)
        for split in SPLITS:
            part = frame.iloc[splits[split]]
            x_num, x_cat = self.preprocessor.transform(part)
            self.frames[split] = part[keep].reset_index(drop=True)
            self.targets[split] = y[splits[split]]
            self.tensors[split] = (x_num, x_cat, torch.as_tensor(self.targets[split], dtype=self.target_dtype))

    def fit_preprocessor(self, train: pd.DataFrame, features: list[str]) -> TabularPreprocessor:
        """The preprocessing fitted on the training rows: in memory, on Spark, or the state given."""
        if self.preprocessor_state is not None:
            return TabularPreprocessor.from_state(self.preprocessor_state)
        options = {"numeric": self.numeric or None, "categorical": self.categorical or None}
        if self.fit_engine == "spark":
            from lepton_core.spark.preprocessing import fit_streamed_training_rows
            from lepton_core.spark.session import session_for

            with session_for(self.spark_master, "lepton-prepare") as session:
                return fit_streamed_training_rows(
                    self.stream, str(self.target), features,
                    seed=self.seed, val_fraction=self.val_fraction, test_fraction=self.test_fraction,
                    max_categories=self.max_categories, session=session, **options,
                )
        return TabularPreprocessor(max_categories=self.max_categories).fit(train, features, **options)

    def spark_fit_state(self, session: Any) -> dict[str, Any]:
        """The Spark fit's state, computed on a driver before training starts elsewhere (``launcher=spark``)."""
        from lepton_core.spark.preprocessing import fit_streamed_training_rows
        from lepton_core.tabular.streaming import open_stream

        stream = open_stream(self)
        self._check_columns(stream.empty_frame())
        features = self.feature_columns(stream.empty_frame().drop(columns=self.drop))
        return fit_streamed_training_rows(
            stream, str(self.target), features, seed=self.seed, val_fraction=self.val_fraction,
            test_fraction=self.test_fraction, numeric=self.numeric or None,
            categorical=self.categorical or None, max_categories=self.max_categories, session=session,
        ).to_state()

    # ------------------------------------------------------------------ loaders

    @property
    def train_batch_size(self) -> int:
        """``batch_size``, or with ``"auto"`` about 1/16 of the training rows, between 32 and 512."""
        if self.batch_size != "auto":
            return int(self.batch_size)
        return min(512, max(32, len(self.frames["train"]) // 16))

    def train_dataloader(self) -> Any:
        """Shuffled training batches (deterministic per epoch); streamed from the table when streaming."""
        if self.stream is not None:
            from lepton_core.tabular.streaming import train_loader

            return train_loader(self)
        return TensorBatchLoader(*self.tensors["train"], batch_size=self.train_batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> TensorBatchLoader:
        """Validation batches in order."""
        return TensorBatchLoader(*self.tensors["val"], batch_size=self.eval_batch_size)

    def test_dataloader(self) -> TensorBatchLoader:
        """Test batches in order."""
        return TensorBatchLoader(*self.tensors["test"], batch_size=self.eval_batch_size)

    def loader(self, split: str) -> TensorBatchLoader:
        """Unshuffled batches of any split."""
        return TensorBatchLoader(*self.tensors[split], batch_size=self.eval_batch_size)

    # ------------------------------------------------------------------ describing and exporting

    def model_kwargs(self) -> dict[str, Any]:
        """Sizes a TabularNet needs: ``n_numeric`` and ``cardinalities``."""
        assert self.preprocessor is not None
        return {"n_numeric": self.preprocessor.n_numeric, "cardinalities": self.preprocessor.cardinalities}

    def summary(self) -> dict[str, Any]:
        """Rows per split, column counts and the split kind, for the report (never names dropped columns)."""
        assert self.preprocessor is not None
        summary: dict[str, Any] = {f"{split} rows": len(self.frames[split]) for split in SPLITS}
        summary["source"] = Path(self.path).name if self.path else "generated demo data"
        summary["numeric columns"] = len(self.preprocessor.numeric)
        summary["categorical columns"] = len(self.preprocessor.categorical)
        summary["split"] = f"out-of-time on '{self.time_column}'" if self.time_column else (
            "random, stratified" if self.stratify else "random"
        )
        if self.drop:
            summary["dropped columns"] = len(self.drop)
        if self.n_rows_dropped_for_missing_target:
            summary["rows without target (ignored)"] = self.n_rows_dropped_for_missing_target
        if self.stream_sample is not None:
            summary["split"] = "random by row hash (streamed)"
            summary.update({f"{split} rows in the table": n for split, n in self.stream_sample.rows_per_split.items()})
            summary["rows without target (ignored)"] = self.stream_sample.rows_without_target
        return summary

    def export_state(self) -> dict[str, Any]:
        """Fitted preprocessing, column roles and one synthetic example row (for the input schema) for the bundle."""
        assert self.preprocessor is not None
        return {
            "preprocessor": self.preprocessor.to_state(),
            "target": self.target,
            "id_column": self.id_column,
            "example_row": self.input_example()[0],
        }

    def input_rows(self, split: str = "test", n: int = 2, sample: bool = False) -> list[dict[str, Any]]:
        """Raw rows of a split as JSON-ready dicts (first ``n``, or a seeded sample)."""
        frame = self.frames[split]
        part = frame.sample(n=min(n, len(frame)), random_state=self.seed) if sample else frame.head(n)
        return json_rows(part)

    def input_example(self) -> list[dict[str, Any]]:
        """Two synthetic rows built from the fitted preprocessing, never rows of the table (see ``typical_rows``)."""
        assert self.preprocessor is not None
        return typical_rows(self.preprocessor, self.id_column)

    def reference_inputs(self, n: int = 300) -> list[dict[str, Any]]:
        """A seeded sample of raw training rows (the drift monitor's reference profile)."""
        return self.input_rows("train", n, sample=True)
