"""Fit a TabularPreprocessor on a Spark DataFrame with Spark aggregations: the same state as the in-memory fit.

Column kinds, the checks of ``TabularPreprocessor.fit`` (all-missing columns, text in numeric columns,
infinite or too large values), medians (exact ``percentile``, or ``percentile_approx`` when
``exact_median=False``), means and standard deviations of the median-filled values, and the category
vocabularies (counted per canonical ``category_key``, most frequent first, ties by key) are computed on
the executors; only the per-column results reach the driver.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lepton_core.errors import DataError
from lepton_core.tabular.preprocessing import ISO_DATE, MOSTLY_NUMERIC, TabularPreprocessor, category_key

__all__ = ["fit_preprocessor", "fit_streamed_training_rows"]

DATE_SAMPLE = 200


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _kinds(
    frame: Any,
    columns: list[str],
    n_rows: int,
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """(numeric, categorical) like ``detect_column_kinds``: listed ones as given, the rest by type and values."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    numeric_set, categorical_set = set(numeric or ()), set(categorical or ())
    both = sorted(numeric_set & categorical_set)
    if both:
        raise DataError(
            f"column(s) {', '.join(both)} listed as both numeric and categorical", "list each once"
        )
    unknown = sorted((numeric_set | categorical_set) - set(columns))
    if unknown:
        raise DataError(
            f"column(s) {', '.join(unknown)} listed as features are not in the table", "fix the lists"
        )
    types = {f.name: f.dataType for f in frame.schema.fields}
    kinds: dict[str, str] = {}
    text: list[str] = []
    for column in columns:
        kind = types[column]
        if column in numeric_set:
            kinds[column] = "numeric"
        elif column in categorical_set:
            kinds[column] = "categorical"
        elif isinstance(kind, T.DateType | T.TimestampType | T.TimestampNTZType):
            raise DataError(
                f"column '{column}' holds dates, which are not features",
                "use it as data.time_column or list it in data.drop",
            )
        elif isinstance(kind, T.NumericType | T.BooleanType):
            kinds[column] = "numeric"
        elif isinstance(kind, T.StringType):
            text.append(column)
        else:
            kinds[column] = "categorical"
    if text:
        aggregates = []
        for column in text:
            value = F.col(_quoted(column))
            present = value.isNotNull() & (F.trim(value) != "")
            aggregates += [
                F.count(F.when(present, 1)).alias(f"present_{column}"),
                F.count(F.when(present & value.try_cast("double").isNotNull(), 1)).alias(f"parsed_{column}"),
            ]
        counts = frame.agg(*aggregates).first().asDict()
        for column in text:
            present, parsed = counts[f"present_{column}"], counts[f"parsed_{column}"]
            dates = (
                frame.select(F.col(_quoted(column)).alias("v"))
                .where(F.col("v").isNotNull())
                .limit(DATE_SAMPLE)
            )
            sample = dates.agg(
                F.count("*").alias("n"), F.count(F.when(F.col("v").rlike(f"^{ISO_DATE}$"), 1)).alias("d")
            )
            row = sample.first()
            if row["n"] and row["n"] == row["d"]:
                raise DataError(
                    f"column '{column}' holds dates, which are not features",
                    "use it as data.time_column or list it in data.drop",
                )
            if present and parsed == present:
                kinds[column] = "numeric"
            elif present and parsed >= MOSTLY_NUMERIC * present:
                raise DataError(
                    f"column '{column}' is numeric but has {present - parsed} text value(s) like "
                    f"{_bad_examples(frame, column)}",
                    f"clean the column, or list '{column}' as categorical",
                )
            else:
                kinds[column] = "categorical"
    return [c for c in columns if kinds[c] == "numeric"], [c for c in columns if kinds[c] == "categorical"]


def _bad_examples(frame: Any, column: str, limit: int = 3) -> str:
    from pyspark.sql import functions as F

    value = F.col(_quoted(column))
    bad = frame.select(value.cast("string").alias("v")).where(
        value.isNotNull()
        & (F.trim(value.cast("string")) != "")
        & value.cast("string").try_cast("double").isNull()
    )
    return ", ".join(repr(r["v"]) for r in bad.distinct().limit(limit).collect())


def _as_double(frame: Any, column: str) -> Any:
    """The column as double with NaN turned into null (missing, as pandas counts it)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    value = F.col(_quoted(column))
    kind = frame.schema[column].dataType
    as_double = value.cast("double") if not isinstance(kind, T.StringType) else value.try_cast("double")
    return F.when(F.isnan(as_double), None).otherwise(as_double)


def _fit_numeric(pre: TabularPreprocessor, frame: Any, n_rows: int, exact_median: bool) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not pre.numeric:
        return
    first = []
    for i, column in enumerate(pre.numeric):
        value = _as_double(frame, column)
        raw = F.col(_quoted(column))
        if isinstance(frame.schema[column].dataType, T.StringType):
            text = raw.isNotNull() & (F.trim(raw) != "")
            first.append(F.count(F.when(text & raw.try_cast("double").isNull(), 1)).alias(f"bad{i}"))
        else:
            first.append(F.lit(0).alias(f"bad{i}"))
        finite = F.when(~value.isin(float("inf"), float("-inf")), value)
        median = (
            F.percentile(finite, F.lit(0.5)) if exact_median else F.percentile_approx(finite, 0.5, 100_000)
        )
        first += [
            F.count(value).alias(f"present{i}"),
            F.count(F.when(value.isin(float("inf"), float("-inf")), 1)).alias(f"inf{i}"),
            median.alias(f"median{i}"),
            F.max(F.abs(value)).alias(f"absmax{i}"),
        ]
    stats = frame.agg(*first).first().asDict()
    for i, column in enumerate(pre.numeric):
        if stats[f"bad{i}"]:
            raise DataError(
                f"column '{column}' is numeric but has {stats[f'bad{i}']} text value(s) like "
                f"{_bad_examples(frame, column)}",
                f"clean the column, or list '{column}' as categorical",
            )
        if stats[f"inf{i}"]:
            raise DataError(f"column '{column}' has infinite values", "replace them with numbers or blanks")
        if not stats[f"present{i}"]:
            raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
        pre.median[column] = float(stats[f"median{i}"])
    second = []
    for i, column in enumerate(pre.numeric):
        filled = F.coalesce(_as_double(frame, column), F.lit(pre.median[column]))
        second += [F.avg(filled).alias(f"mean{i}"), F.stddev_pop(filled).alias(f"std{i}")]
    moments = frame.agg(*second).first().asDict()
    for i, column in enumerate(pre.numeric):
        mean, std = float(moments[f"mean{i}"]), float(moments[f"std{i}"])
        if not math.isfinite(std) or not math.isfinite(mean):
            raise DataError(
                f"column '{column}' has values too large to compute with (up to {stats[f'absmax{i}']:.3g})",
                f"rescale '{column}' (e.g. to thousands) or cap its outliers",
            )
        pre.mean[column] = mean
        pre.std[column] = std if std > 1e-12 else 1.0
        missing = n_rows - stats[f"present{i}"]
        if missing:
            pre.missing_indicators.append(column)
            pre.missing_rate[column] = missing / n_rows


def _category_keys(series: pd.Series) -> pd.Series:
    """pandas UDF body: each raw value's canonical vocabulary key (None for missing)."""
    return series.map(category_key)


def _fit_categorical(pre: TabularPreprocessor, frame: Any, n_rows: int) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not pre.categorical:
        return
    to_key = F.pandas_udf(_category_keys, "string")
    pairs = frame.select(
        F.explode(
            F.array(
                *[
                    F.struct(F.lit(i).alias("column"), to_key(F.col(_quoted(c))).alias("key"))
                    for i, c in enumerate(pre.categorical)
                ]
            )
        ).alias("pair")
    ).select("pair.column", "pair.key")
    counts = pairs.where(F.col("key").isNotNull()).groupBy("column", "key").count()
    ranked = counts.withColumn(
        "rank", F.row_number().over(Window.partitionBy("column").orderBy(F.desc("count"), F.asc("key")))
    ).where(F.col("rank") <= pre.max_categories)
    kept: dict[int, list[tuple[int, str, int]]] = {}
    for row in ranked.collect():
        kept.setdefault(row["column"], []).append((row["rank"], row["key"], row["count"]))
    for i, column in enumerate(pre.categorical):
        top = sorted(kept.get(i, []))
        if not top:
            raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
        pre.vocabulary[column] = [key for _, key, _ in top]
        total = sum(count for _, _, count in top)
        pre.category_shares[column] = [(n_rows - total) / n_rows, *(count / n_rows for _, _, count in top)]


def fit_preprocessor(
    frame: Any,
    features: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    max_categories: int = 200,
    clip: float = 8.0,
    exact_median: bool = True,
) -> TabularPreprocessor:
    """A fitted TabularPreprocessor from a Spark DataFrame; ``to_state()`` equals the in-memory fit's."""
    from pyspark.sql import functions as F

    columns = list(features) if features is not None else list(frame.columns)
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(f"feature column(s) not in the table: {', '.join(absent)}", "fix the feature list")
    if not columns:
        raise DataError(
            "no feature columns left to learn from", "keep at least one column besides target/id/time"
        )
    frame = frame.select(*[_quoted(c) for c in columns])
    present = []
    for column in columns:
        kind = frame.schema[column].dataType.typeName()
        value = F.col(_quoted(column))
        missing = value.isNull() | F.isnan(value) if kind in ("double", "float") else value.isNull()
        present.append(F.count(F.when(~missing, 1)).alias(column))
    counts = frame.agg(F.count("*").alias("__rows__"), *present).first()
    n_rows = int(counts["__rows__"])
    if n_rows == 0:
        raise DataError("the training split is empty", "give more rows")
    for column in columns:
        if not counts[column]:
            raise DataError(f"column '{column}' has no values (all missing)", f"add data.drop=[{column}]")
    pre = TabularPreprocessor(max_categories=max_categories, clip=clip)
    pre.numeric, pre.categorical = _kinds(frame, columns, n_rows, numeric, categorical)
    _fit_numeric(pre, frame, n_rows, exact_median)
    _fit_categorical(pre, frame, n_rows)
    pre.fitted = True
    return pre


def fit_streamed_training_rows(
    stream: Any,
    target: str,
    features: Sequence[str],
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    max_categories: int = 200,
    session: Any = None,
) -> TabularPreprocessor:
    """Fit on every training row of a streamed Parquet table (``split_codes`` train, target present) with Spark.

    Each row's global index (its file's first row plus Parquet's ``_metadata.row_index``) gives the same
    split as the streaming loader, so the state is the in-memory fit over all the training rows, not a sample.
    """
    from urllib.parse import unquote, urlparse

    import numpy as np
    from pyspark.sql import functions as F

    from lepton_core.spark.session import get_session
    from lepton_core.tabular.streaming import split_codes

    session = session or get_session()
    offsets = stream.file_offsets()
    table = session.read.parquet(*[str(f) for f in offsets])
    uris = [r["uri"] for r in table.select(F.col("_metadata.file_path").alias("uri")).distinct().collect()]
    file_start = {}
    for uri in uris:
        local = Path(unquote(urlparse(uri).path)).resolve()
        if local not in offsets:
            raise DataError(f"Spark read a file Lepton did not list: {uri}", "give a folder of Parquet files only")
        file_start[uri] = offsets[local]
    start = F.create_map(*[v for uri, first in file_start.items() for v in (F.lit(uri), F.lit(first))])

    @F.pandas_udf("int")
    def _split(rows: pd.Series) -> pd.Series:
        return pd.Series(split_codes(rows.to_numpy(np.int64), seed, val_fraction, test_fraction), dtype="int32")

    value = F.col(_quoted(target))
    present = value.isNotNull()
    kind = table.schema[target].dataType.typeName()
    if kind in ("double", "float"):
        present &= ~F.isnan(value)
    elif kind == "string":
        present &= F.trim(value) != ""
    rows = start[F.col("_metadata.file_path")] + F.col("_metadata.row_index")
    train = table.where(present).where(_split(rows) == 0)
    return fit_preprocessor(
        train, features, numeric=numeric, categorical=categorical, max_categories=max_categories
    )
