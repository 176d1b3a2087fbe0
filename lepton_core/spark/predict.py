"""`lepton predict --engine spark`: score a Parquet/CSV file or a table with mapInPandas, write partitioned Parquet.

Each Python worker loads and verifies the bundle once (``load_bundle``, cached per worker process for
every batch and task it runs) and scores Arrow batches through the same code as `lepton predict`:
records -> ``ItemValidator`` -> ``items_predictor()`` -> rows, nested values as JSON text. The output
schema comes from scoring the input's first rows on the driver, which also checks the bundle and the
input before any executor starts.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.errors import ConfigError, DataError, LeptonError

__all__ = ["SparkPredictSummary", "WorkerScorer", "predict_spark", "worker_scorer"]

URI = re.compile(r"^[A-Za-z][\w+.-]*://")
TABLE_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}$")
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SAMPLE_ROWS = 256
SPARK_FILES = "sparkfiles:"


@dataclass(frozen=True)
class SparkPredictSummary:
    """What a Spark batch prediction wrote."""

    output: str
    rows: int
    seconds: float
    runtime: str
    partitions: int
    bundle_loads: int


class WorkerScorer:
    """One loaded bundle: validate raw records and predict them, as `lepton predict` does."""

    def __init__(self, bundle_dir: str, runtime: str, load_options: Mapping[str, Any]) -> None:
        from lepton_core.bundle import load_bundle
        from lepton_core.deploy.onnx import attach_runtime, resolve_device
        from lepton_core.deploy.validation import ItemValidator

        loaded = load_bundle(bundle_dir, device=resolve_device("auto"), **load_options)
        self.predictor = loaded.predictor
        self.runtime = attach_runtime(loaded.path, loaded.manifest, self.predictor, runtime)
        self.fields = list(self.predictor.input_schema().get("properties", {})) or None
        self.validate = ItemValidator(self.predictor.input_model)
        self.predict_items = self.predictor.items_predictor()

    def score(self, frame: Any, where: str, first_row: int) -> list[dict[str, Any]]:
        """Prediction rows (nested values as JSON text) of a pandas frame of input rows."""
        from lepton_core.deploy.files import _flat, _frame_records
        from lepton_core.deploy.validation import InvalidItems

        try:
            items = self.validate(_frame_records(frame, self.fields))
        except InvalidItems as exc:
            index, field, message = exc.describe_first()
            row = f"row {first_row + index + 1}" if index is not None else f"rows from {first_row + 1}"
            raise DataError(
                f"{where} {row}: field '{field}': {message}",
                "fix that input (the bundle's input schema is in its lepton.json and model_card.md)",
            ) from None
        return [{k: _flat(v) for k, v in row.items()} for row in self.predict_items(items)]


_SCORERS: dict[tuple[Any, ...], WorkerScorer] = {}


def worker_scorer(
    bundle_dir: str, runtime: str = "auto", load_options: Mapping[str, Any] | None = None
) -> WorkerScorer:
    """The bundle loaded and verified once per Python process; ``load_options`` go to ``load_bundle`` as given."""
    options = dict(load_options or {})
    key = (bundle_dir, runtime, repr(sorted(options.items())))
    scorer = _SCORERS.get(key)
    if scorer is None:
        path = bundle_dir
        if path.startswith(SPARK_FILES):  # shipped with SparkContext.addFile
            from pyspark import SparkFiles

            path = SparkFiles.get(path.removeprefix(SPARK_FILES))
        scorer = _SCORERS[key] = WorkerScorer(path, runtime, options)
    return scorer


def _score_batches(
    batches: Iterator[Any],
    bundle_dir: str,
    runtime: str,
    load_options: Mapping[str, Any],
    columns: list[str],
    string_columns: list[str],
    where: str,
    loads: Any,
    rows: Any,
) -> Iterator[Any]:
    """mapInPandas body: score each Arrow batch of a partition with this worker's cached bundle."""
    import pandas as pd
    from pyspark import TaskContext

    before = len(_SCORERS)
    scorer = worker_scorer(bundle_dir, runtime, load_options)
    loads.add(len(_SCORERS) - before)
    context = TaskContext.get()
    partition = f"{where} partition {context.partitionId() if context else 0}"
    start = 0
    for frame in batches:
        scored = pd.DataFrame(scorer.score(frame, partition, start), columns=columns)
        for column in string_columns:
            scored[column] = scored[column].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        start += len(frame)
        rows.add(len(frame))
        yield scored


def _is_local(master: str) -> bool:
    return master.startswith("local")


def _check_local_input(source: str) -> None:
    """A local INPUT that is neither a file, a folder nor a table name is refused before Spark starts."""
    if URI.match(source) and not source.startswith("file://"):
        return
    path = Path(source.removeprefix("file://"))
    if not path.exists() and not (not path.suffix and TABLE_NAME.match(source)):
        raise DataError(f"input not found: {source}", "check the INPUT path (or the table name)")


def read_input(spark: Any, source: str) -> Any:
    """A DataFrame of ``source``: a Parquet file or folder, a CSV/TSV file (header row), or a table name."""
    suffix = Path(source.rstrip("/")).suffix.lower()
    remote = bool(URI.match(source)) and not source.startswith("file://")
    if not remote:
        path = Path(source.removeprefix("file://"))
        if not path.exists():
            if not suffix and TABLE_NAME.match(source) and spark.catalog.tableExists(source):
                return spark.table(source)
            raise DataError(f"input not found: {source}", "check the INPUT path (or the table name)")
        source = str(path.resolve())
    reader = spark.read
    try:
        if suffix in CSV_SUFFIXES:
            return reader.csv(
                source, header=True, inferSchema=True, sep=CSV_SUFFIXES[suffix], enforceSchema=False
            )
        if suffix in PARQUET_SUFFIXES or not suffix:
            return reader.parquet(source)
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException and py4j errors
        raise DataError(
            f"cannot read {source}: {_spark_message(exc)}", "check the INPUT path and its format"
        ) from None
    raise DataError(
        f"the spark engine cannot read {Path(source).name}: unknown file type",
        "pass a .parquet file or folder, a .csv/.tsv file, or a table name",
    )


def _spark_message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = re.sub(r"\s*(SQLSTATE|JVM stacktrace).*", "", text)
    return text[:300] or type(exc).__name__


def _output_schema(sample_rows: list[dict[str, Any]], columns: list[str]) -> tuple[Any, list[str]]:
    """Spark schema of the prediction rows (all-null columns as strings) and the names of its string columns."""
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    table = pa.Table.from_pandas(pd.DataFrame(sample_rows, columns=columns), preserve_index=False)
    fields = [pa.field(f.name, pa.string() if pa.types.is_null(f.type) else f.type) for f in table.schema]
    schema = pa.schema(fields)
    return from_arrow_schema(schema), [
        f.name for f in fields if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]


def _local_output(output: str) -> Path | None:
    if URI.match(output) and not output.startswith("file://"):
        return None
    return Path(output.removeprefix("file://")).resolve()


def predict_spark(
    bundle_dir: str | Path,
    source: str,
    output: str,
    master: str | None = None,
    chunk_size: int = 1024,
    runtime: str = "auto",
    partitions: int | None = None,
    load_options: Mapping[str, Any] | None = None,
) -> SparkPredictSummary:
    """Score every row of ``source`` on Spark and write the predictions as a folder of Parquet part files."""
    from lepton_core.spark.session import get_session, lepton_error_from

    if chunk_size < 1:
        raise DataError(f"chunk size {chunk_size} is not positive", "pass --chunk-size 1 or more")
    if partitions is not None and partitions < 1:
        raise ConfigError(f"--partitions {partitions} is not positive", "pass 1 or more, or leave it out")
    if Path(output).suffix.lower() not in ("", ".parquet", ".pq"):
        raise ConfigError(
            f"the spark engine writes a folder of Parquet part files, not {Path(output).name}",
            "name the output folder without a suffix or with .parquet",
        )
    start = time.perf_counter()
    bundle_path = Path(bundle_dir)
    options = dict(load_options or {})
    driver_scorer = worker_scorer(
        str(bundle_path.resolve()) if bundle_path.exists() else str(bundle_path), runtime, options
    )
    if driver_scorer.predictor.input_kind != "table":
        raise ConfigError(
            f"the spark engine scores table bundles; this one takes {driver_scorer.predictor.input_kind} input",
            "use the default engine (leave out --engine spark)",
        )
    _check_local_input(source)
    local = _local_output(output)
    if local is not None and not URI.match(source) and Path(source).exists():
        given = Path(source).resolve()
        if local == given or local in given.parents:
            raise ConfigError(
                f"the output {output} would replace the input {source}",
                "write the predictions to another folder",
            )
    spark = get_session(master)
    used_master = spark.sparkContext.master
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
    frame = read_input(spark, source)
    fields = driver_scorer.fields
    if fields is not None:
        frame = frame.select(*[f"`{c}`" for c in frame.columns if c in fields])
    where = Path(source.rstrip("/")).name or source
    try:
        sample = frame.limit(SAMPLE_ROWS).toPandas()
    except Exception as exc:  # noqa: BLE001 - any read failure of the input
        raise DataError(
            f"cannot read {source}: {_spark_message(exc)}", "check the INPUT file's format"
        ) from None
    if sample.empty:
        raise DataError(f"{where} has no rows", "give a table with rows to score")
    sample_rows = driver_scorer.score(sample, where, 0)
    columns = list(sample_rows[0])
    schema, string_columns = _output_schema(sample_rows, columns)
    if partitions is not None:
        frame = frame.repartition(partitions)

    executor_bundle = str(bundle_path.resolve())
    if not _is_local(used_master):  # ship the bundle: executors need no shared file system
        spark.sparkContext.addFile(executor_bundle, recursive=True)
        executor_bundle = SPARK_FILES + bundle_path.resolve().name
    loads = spark.sparkContext.accumulator(0)
    rows = spark.sparkContext.accumulator(0)
    n_partitions = frame.rdd.getNumPartitions()
    body = functools.partial(
        _score_batches,
        bundle_dir=executor_bundle,
        runtime=runtime,
        load_options=options,
        columns=columns,
        string_columns=string_columns,
        where=where,
        loads=loads,
        rows=rows,
    )
    scored = frame.mapInPandas(body, schema)
    target = str(local) if local is not None else output
    staging = (
        target if local is None else str(local.with_name(f".{local.name}.{uuid.uuid4().hex[:8]}.partial"))
    )
    try:
        scored.write.mode("overwrite").parquet(staging)
    except Exception as exc:  # a worker's LeptonError arrives wrapped in Spark's exception
        if local is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raised = lepton_error_from(exc)
        if raised is not None:
            raise raised from None
        if isinstance(exc, LeptonError):
            raise
        raise DataError(
            f"Spark could not score {where}: {_spark_message(exc)}", "see the Spark log (--debug)"
        ) from None
    if local is not None:
        if local.is_dir():
            shutil.rmtree(local)
        elif local.exists():
            local.unlink()
        os.replace(staging, local)
    return SparkPredictSummary(
        target,
        int(rows.value),
        time.perf_counter() - start,
        driver_scorer.runtime,
        n_partitions,
        int(loads.value),
    )
