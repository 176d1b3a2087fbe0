"""Fit-once, JSON-serialisable preprocessing of table columns into the tensors a TabularNet reads.

Numeric columns: median imputation, a missing-value indicator (for columns with gaps in training),
standardisation with training mean/std, clipping at ``clip`` standard deviations.
Categorical columns: a vocabulary of the ``max_categories`` most frequent training values; index 0 is
"missing or unseen", so new categories at prediction time are handled, never an error.
Numbers and their text form are the same category (``1``, ``1.0`` and ``"1"`` -> ``"1"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lepton_core.errors import BundleError, DataError

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["TabularPreprocessor", "category_key", "detect_column_kinds"]

STATE_VERSION = 1
MOSTLY_NUMERIC = 0.9
ISO_DATE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"


def category_key(value: Any) -> str | None:
    """The canonical vocabulary key of one raw value; None for missing (None, NaN, empty text)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    return text or None


def _examples(values: pd.Series, limit: int = 3) -> str:
    return ", ".join(repr(v) for v in values.astype(str).unique()[:limit])


def _non_numeric(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values as float, the raw values that are present but not numbers)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=series.index), series.iloc[0:0]
    parsed = pd.to_numeric(series, errors="coerce").astype("float64")
    present = series.notna() & (series.astype(str).str.strip() != "")
    return parsed, series[present & parsed.isna()]


def _looks_like_dates(series: pd.Series, sample: int = 200) -> bool:
    """True when every sampled value is an ISO date or timestamp text (2024-01-31, 2024-01-31T10:00...)."""
    values = series.dropna().astype(str).head(sample)
    return bool(len(values)) and bool(values.str.fullmatch(ISO_DATE).all())


def detect_column_kinds(
    frame: pd.DataFrame,
    columns: Sequence[str],
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Split ``columns`` into (numeric, categorical): listed ones as given, the rest by their values.

    A text column whose values are at least 90% numbers is taken for a numeric column with bad
    entries and raises DataError; dates raise DataError too (use them as a time column or drop them).
    """
    import pandas as pd

    numeric_set, categorical_set = set(numeric or ()), set(categorical or ())
    both = sorted(numeric_set & categorical_set)
    if both:
        raise DataError(f"column(s) {', '.join(both)} listed as both numeric and categorical", "list each once")
    unknown = sorted((numeric_set | categorical_set) - set(columns))
    if unknown:
        raise DataError(f"column(s) {', '.join(unknown)} listed as features are not in the table", "fix the lists")
    kinds: dict[str, str] = {}
    for column in columns:
        series = frame[column]
        if column in numeric_set:
            kinds[column] = "numeric"
        elif column in categorical_set:
            kinds[column] = "categorical"
        elif pd.api.types.is_datetime64_any_dtype(series):
            raise DataError(
                f"column '{column}' holds dates, which are not features",
                "use it as data.time_column or list it in data.drop",
            )
        elif pd.api.types.is_numeric_dtype(series):
            kinds[column] = "numeric"
        elif _looks_like_dates(series):
            raise DataError(
                f"column '{column}' holds dates, which are not features",
                "use it as data.time_column or list it in data.drop",
            )
        else:
            parsed, bad = _non_numeric(series)
            present = int(parsed.notna().sum()) + len(bad)
            if present and not len(bad):
                kinds[column] = "numeric"
            elif present and parsed.notna().sum() >= MOSTLY_NUMERIC * present:
                raise DataError(
                    f"column '{column}' is numeric but has {len(bad)} text value(s) like {_examples(bad)}",
                    f"clean the column, or list '{column}' as categorical",
                )
            else:
                kinds[column] = "categorical"
    return [c for c in columns if kinds[c] == "numeric"], [c for c in columns if kinds[c] == "categorical"]


class TabularPreprocessor:
    """Numeric/categorical column encoding fitted on a training frame; ``transform`` -> (x_num, x_cat)."""

    def __init__(self, max_categories: int = 200, clip: float = 8.0) -> None:
        self.max_categories = int(max_categories)
        self.clip = float(clip)
        self.numeric: list[str] = []
        self.categorical: list[str] = []
        self.median: dict[str, float] = {}
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.missing_indicators: list[str] = []
        self.vocabulary: dict[str, list[str]] = {}
        self.missing_rate: dict[str, float] = {}
        self.category_shares: dict[str, list[float]] = {}
        self.fitted = False

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        frame: pd.DataFrame,
        features: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
    ) -> TabularPreprocessor:
        """Learn column kinds, imputation, scaling and vocabularies from a training frame."""
        columns = list(features) if features is not None else [str(c) for c in frame.columns]
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DataError(f"feature column(s) not in the table: {', '.join(absent)}", "fix the feature list")
        if not columns:
            raise DataError("no feature columns left to learn from", "keep at least one column besides target/id/time")
        if len(frame) == 0:
            raise DataError("the training split is empty", "give more rows")
        for column in columns:
            if frame[column].isna().all():
                raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
        self.numeric, self.categorical = detect_column_kinds(frame, columns, numeric, categorical)
        for column in self.numeric:
            values, bad = _non_numeric(frame[column])
            if len(bad):
                raise DataError(
                    f"column '{column}' is numeric but has {len(bad)} text value(s) like {_examples(bad)}",
                    f"clean the column, or list '{column}' as categorical",
                )
            if np.isinf(values.to_numpy()).any():
                raise DataError(f"column '{column}' has infinite values", "replace them with numbers or blanks")
            if values.isna().all():
                raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
            median = float(values.median())
            filled = values.fillna(median)
            std = float(filled.std(ddof=0))
            if not math.isfinite(std) or not math.isfinite(float(filled.mean())):
                raise DataError(
                    f"column '{column}' has values too large to compute with (up to {values.abs().max():.3g})",
                    f"rescale '{column}' (e.g. to thousands) or cap its outliers",
                )
            self.median[column], self.mean[column] = median, float(filled.mean())
            self.std[column] = std if std > 1e-12 else 1.0
            if values.isna().any():
                self.missing_indicators.append(column)
                self.missing_rate[column] = float(values.isna().mean())
        for column in self.categorical:
            all_keys = frame[column].map(category_key)
            keys = all_keys.dropna()
            if keys.empty:
                raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
            counts = keys.value_counts()
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            self.vocabulary[column] = [key for key, _ in ranked[: self.max_categories]]
            kept = [int(count) for _, count in ranked[: self.max_categories]]
            self.category_shares[column] = [(len(all_keys) - sum(kept)) / len(all_keys), *(c / len(all_keys) for c in kept)]
        self.fitted = True
        return self

    # ------------------------------------------------------------------ description

    @property
    def columns(self) -> list[str]:
        """The input columns a frame must have, numeric first."""
        return [*self.numeric, *self.categorical]

    @property
    def numeric_feature_names(self) -> list[str]:
        """Names of the ``x_num`` columns: scaled numerics, then ``<column>_missing`` indicators."""
        return [*self.numeric, *(f"{c}_missing" for c in self.missing_indicators)]

    @property
    def numeric_sources(self) -> list[str]:
        """For each ``x_num`` column, the input column it comes from."""
        return [*self.numeric, *self.missing_indicators]

    @property
    def feature_names(self) -> list[str]:
        """Names of every model input: ``x_num`` columns then ``x_cat`` columns."""
        return [*self.numeric_feature_names, *self.categorical]

    @property
    def cardinalities(self) -> list[int]:
        """Embedding table sizes per categorical column (vocabulary + the missing/unseen index 0)."""
        return [len(self.vocabulary[c]) + 1 for c in self.categorical]

    @property
    def n_numeric(self) -> int:
        """Width of ``x_num``."""
        return len(self.numeric) + len(self.missing_indicators)

    def reference_numeric(self) -> np.ndarray:
        """The training mean of every ``x_num`` column (0 for scaled numerics, the missing rate for flags)."""
        return np.array([0.0] * len(self.numeric) + [self.missing_rate[c] for c in self.missing_indicators], np.float32)

    def reference_category_shares(self) -> list[np.ndarray]:
        """Per categorical column, the training share of each index (index 0 = missing or rare)."""
        return [np.asarray(self.category_shares[c], dtype=np.float32) for c in self.categorical]

    # ------------------------------------------------------------------ transforming

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise RuntimeError("TabularPreprocessor.transform called before fit")

    def transform_arrays(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Encode a frame into (x_num float32, x_cat int64) numpy arrays; bad columns raise DataError."""
        self._require_fitted()
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"missing column(s) {', '.join(absent)} (the model was trained with them)",
                "send every training column; unknown values may be left empty",
            )
        n = len(frame)
        x_num = np.empty((n, self.n_numeric), dtype=np.float32)
        for i, column in enumerate(self.numeric):
            values, bad = _non_numeric(frame[column])
            if len(bad):
                raise DataError(
                    f"column '{column}' changed type: it was numeric in training but has text like {_examples(bad)}",
                    f"send numbers (or blanks) in '{column}'",
                )
            raw = values.to_numpy(dtype=np.float64)
            if np.isinf(raw).any():
                raise DataError(f"column '{column}' has infinite values", "replace them with numbers or blanks")
            missing = np.isnan(raw)
            scaled = (np.where(missing, self.median[column], raw) - self.mean[column]) / self.std[column]
            x_num[:, i] = np.clip(scaled, -self.clip, self.clip)
            if column in self.missing_indicators:
                x_num[:, len(self.numeric) + self.missing_indicators.index(column)] = missing
        x_cat = np.zeros((n, len(self.categorical)), dtype=np.int64)
        for j, column in enumerate(self.categorical):
            index = {key: k + 1 for k, key in enumerate(self.vocabulary[column])}
            x_cat[:, j] = [index.get(key, 0) for key in frame[column].map(category_key)]
        return x_num, x_cat

    def transform(self, frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a frame into (x_num float32, x_cat int64) tensors of shapes (n, n_numeric), (n, n_categorical)."""
        import torch

        x_num, x_cat = self.transform_arrays(frame)
        return torch.from_numpy(x_num), torch.from_numpy(x_cat)

    def group_by_column(self, values_num: np.ndarray, values_cat: np.ndarray) -> np.ndarray:
        """Sum per-input values (e.g. attributions) of ``x_num``/``x_cat`` into one value per column of ``columns``."""
        columns = self.columns
        position = {c: i for i, c in enumerate(columns)}
        grouped = np.zeros((values_num.shape[0], len(columns)), dtype=np.float64)
        for k, source in enumerate(self.numeric_sources):
            grouped[:, position[source]] += values_num[:, k]
        for j, column in enumerate(self.categorical):
            grouped[:, position[column]] += values_cat[:, j]
        return grouped

    # ------------------------------------------------------------------ state

    def to_state(self) -> dict[str, Any]:
        """JSON-ready fitted state (what a bundle stores in preprocess.json)."""
        self._require_fitted()
        return {
            "version": STATE_VERSION,
            "max_categories": self.max_categories,
            "clip": self.clip,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "median": dict(self.median),
            "mean": dict(self.mean),
            "std": dict(self.std),
            "missing_indicators": list(self.missing_indicators),
            "vocabulary": {c: list(v) for c, v in self.vocabulary.items()},
            "missing_rate": dict(self.missing_rate),
            "category_shares": {c: list(v) for c, v in self.category_shares.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from ``to_state()`` output."""
        if int(state.get("version", 0)) != STATE_VERSION:
            raise BundleError(
                f"preprocessing state version {state.get('version')} is not {STATE_VERSION}",
                "rebuild the bundle with the installed lepton-core",
            )
        pre = cls(max_categories=int(state["max_categories"]), clip=float(state["clip"]))
        pre.numeric = list(state["numeric"])
        pre.categorical = list(state["categorical"])
        pre.median = {k: float(v) for k, v in state["median"].items()}
        pre.mean = {k: float(v) for k, v in state["mean"].items()}
        pre.std = {k: float(v) for k, v in state["std"].items()}
        pre.missing_indicators = list(state["missing_indicators"])
        pre.vocabulary = {k: list(v) for k, v in state["vocabulary"].items()}
        pre.missing_rate = {k: float(v) for k, v in state["missing_rate"].items()}
        pre.category_shares = {k: [float(x) for x in v] for k, v in state["category_shares"].items()}
        pre.fitted = True
        return pre
