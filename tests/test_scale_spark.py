"""Spark: `lepton predict --engine spark` equals the default engine row for row, loads the bundle once per
Python worker, and fails with one line; the Spark preprocessing fit equals the in-memory fit.

Needs pyspark and Java 17+ (skipped with the reason otherwise); one local[2] session for the module."""

from __future__ import annotations

import glob
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_core.deploy.batch import predict_file
from lepton_core.errors import DataError
from lepton_core.spark.session import find_java, java_major_version
from lepton_core.tabular.preprocessing import TabularPreprocessor

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install lepton-core[spark])")
JAVA = find_java()
if JAVA is None or (java_major_version(JAVA) or 17) < 17:
    pytest.skip(
        "Spark needs Java 17+ and none was found (JAVA_HOME or java on PATH)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def spark():
    """A local[2] session with small file splits, so small test tables span several partitions."""
    from lepton_core.spark.session import get_session

    session = get_session("local[2]", conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def _points(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "note": rng.choice(["a", "b"], n)}
    )


def _parts(folder: Path) -> pd.DataFrame:
    """The part files of a Spark output folder, in order (Spark keeps the input order without a shuffle)."""
    files = sorted(glob.glob(str(folder / "part-*.parquet")))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _predict_spark(spark, *args, **kwargs):
    from lepton_core.spark.predict import predict_spark

    return predict_spark(*args, master="local[2]", **kwargs)


def test_spark_scores_a_parquet_file_row_for_row_like_the_default_engine(
    spark, example_run: Path, tmp_path: Path
) -> None:
    _points(6000).to_parquet(tmp_path / "in.parquet", row_group_size=500)
    spark.conf.set("spark.sql.files.maxPartitionBytes", "20000")
    try:
        summary = _predict_spark(
            spark, example_run / "bundle", str(tmp_path / "in.parquet"), str(tmp_path / "out"), chunk_size=256
        )
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    reference = predict_file(
        example_run / "bundle", tmp_path / "in.parquet", tmp_path / "ref.parquet", progress=False
    )
    assert summary.rows == reference.rows == 6000
    assert summary.partitions > 1, "the table must be scored by several tasks"
    assert (tmp_path / "out" / "_SUCCESS").is_file()
    got, expected = _parts(tmp_path / "out"), pd.read_parquet(tmp_path / "ref.parquet")
    assert list(got.columns) == list(expected.columns)
    assert got["label"].tolist() == expected["label"].tolist()
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-7)
    batches = math.ceil(6000 / 256)
    assert 1 <= summary.bundle_loads <= 2 < batches, "one load per Python worker, not per batch"


def test_spark_reads_csv_like_the_default_engine(spark, example_run: Path, tmp_path: Path) -> None:
    _points(300, seed=1).to_csv(tmp_path / "in.csv", index=False)
    _predict_spark(spark, example_run / "bundle", str(tmp_path / "in.csv"), str(tmp_path / "out.parquet"))
    predict_file(example_run / "bundle", tmp_path / "in.csv", tmp_path / "ref.csv", progress=False)
    got, expected = _parts(tmp_path / "out.parquet"), pd.read_csv(tmp_path / "ref.csv")
    assert got["label"].tolist() == expected["label"].tolist()
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-7)


def test_spark_scores_a_table_by_name(spark, example_run: Path, tmp_path: Path) -> None:
    spark.createDataFrame(_points(50)).createOrReplaceTempView("applicants")
    summary = _predict_spark(spark, example_run / "bundle", "applicants", str(tmp_path / "out"))
    assert summary.rows == 50 and len(_parts(tmp_path / "out")) == 50


def test_a_bad_row_fails_with_one_line_and_leaves_no_output(spark, example_run: Path, tmp_path: Path) -> None:
    rows = _points(400)
    rows["x2"] = rows["x2"].astype(object)
    rows.loc[300, "x2"] = "abc"
    rows.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(
        DataError, match=r"in\.csv partition 0 row 301: field 'x2': Input should be a valid number"
    ):
        _predict_spark(spark, example_run / "bundle", str(tmp_path / "in.csv"), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out*")), "no staging folder left behind"


def test_an_input_without_a_field_is_refused_before_scoring(spark, example_run: Path, tmp_path: Path) -> None:
    _points(20)[["x1"]].to_parquet(tmp_path / "in.parquet")
    with pytest.raises(DataError, match=r"in\.parquet row 1: field 'x2': Field required"):
        _predict_spark(spark, example_run / "bundle", str(tmp_path / "in.parquet"), str(tmp_path / "out"))


@pytest.mark.slow
def test_a_million_rows_on_local_2(spark, example_run: Path, tmp_path: Path) -> None:
    n = 1_000_000
    _points(n, seed=3).to_parquet(tmp_path / "big.parquet", row_group_size=125_000)
    summary = _predict_spark(
        spark, example_run / "bundle", str(tmp_path / "big.parquet"), str(tmp_path / "out"), chunk_size=4096
    )
    assert summary.rows == n
    assert summary.partitions >= 2, "both cores of local[2] score"
    assert 1 <= summary.bundle_loads <= 2 < n / 4096, "one load per Python worker, not per batch"
    got = _parts(tmp_path / "out")
    assert len(got) == n
    _points(n, seed=3).head(20_000).to_parquet(tmp_path / "head.parquet")
    predict_file(example_run / "bundle", tmp_path / "head.parquet", tmp_path / "ref.parquet", progress=False)
    expected = pd.read_parquet(tmp_path / "ref.parquet")
    assert got["label"].head(20_000).tolist() == expected["label"].tolist()
    np.testing.assert_allclose(got["probability"].head(20_000), expected["probability"], rtol=0, atol=1e-7)


def _lepton(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lepton_core.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def test_no_java_is_one_line_with_exit_code_6(example_run: Path, tmp_path: Path) -> None:
    _points(5).to_parquet(tmp_path / "in.parquet")
    args = [
        "predict",
        str(example_run / "bundle"),
        str(tmp_path / "in.parquet"),
        "-o",
        str(tmp_path / "out"),
        "--engine",
        "spark",
    ]
    proc = _lepton(args, {"JAVA_HOME": str(tmp_path / "no-jdk")})
    assert proc.returncode == 6, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        (
            "error: Spark needs Java and there is no JAVA_HOME/bin/java. Fix: install a Java 17+ runtime "
            "(e.g. `apt install openjdk-17-jre-headless`) or set JAVA_HOME to one."
        )
    ]
    assert not (tmp_path / "out").exists()


def test_the_cli_imports_no_pyspark_unless_the_spark_engine_is_used() -> None:
    code = "import sys; import lepton_core.cli, lepton_core.config.entry; print('pyspark' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        ).stdout.strip()
        == "False"
    )


# ---------------------------------------------------------------------------- preprocessing fit


def _mixed(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 1, n)
    income[rng.random(n) < 0.1] = np.nan
    city = rng.choice(
        ["Lyon", "Paris", " Nice ", "", "Brest", "Metz"], n, p=[0.3, 0.3, 0.15, 0.05, 0.1, 0.1]
    ).astype(object)
    city[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(18, 80, n),
            "owner": rng.random(n) < 0.4,
            "score_text": rng.normal(size=n).round(3).astype(str),  # numbers written as text: numeric
            "city": city,
            "grade": rng.choice([1.0, 2.0, 2.5, np.nan], n),  # listed as categorical: 1.0 -> "1"
            "code": rng.choice(["1", "2", "x", "y", "z"], n),
        }
    )


def _assert_states_equal(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key in (
        "numeric",
        "categorical",
        "missing_indicators",
        "vocabulary",
        "max_categories",
        "clip",
        "version",
    ):
        assert got[key] == expected[key], key
    for key in ("median", "mean", "std", "missing_rate"):
        assert got[key].keys() == expected[key].keys(), key
        for column, value in expected[key].items():
            assert got[key][column] == pytest.approx(value, rel=1e-12, abs=1e-12), (key, column)
    for column, shares in expected["category_shares"].items():
        assert got["category_shares"][column] == pytest.approx(shares, rel=1e-12), column


@pytest.mark.parametrize("max_categories", [200, 3])
def test_spark_fit_equals_the_in_memory_fit(spark, tmp_path: Path, max_categories: int) -> None:
    from lepton_core.spark.preprocessing import fit_preprocessor

    frame = _mixed()
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=700)
    expected = TabularPreprocessor(max_categories=max_categories).fit(frame, categorical=["grade"])
    table = spark.read.parquet(str(tmp_path / "t.parquet"))
    got = fit_preprocessor(table, categorical=["grade"], max_categories=max_categories)
    _assert_states_equal(got.to_state(), expected.to_state())
    assert expected.missing_indicators == ["income"] and "city" in expected.categorical


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("income", [1.0, np.inf, 2.0] * 10, "has infinite values"),
        ("income", [np.nan] * 30, r"has no values \(all missing\)"),
        ("income", ["1", "2", "abc"] + ["3"] * 27, r"is numeric but has 1 text value\(s\) like 'abc'"),
        ("income", ["2024-01-31"] * 30, "holds dates"),
    ],
)
def test_spark_fit_refuses_what_the_in_memory_fit_refuses(
    spark, column: str, values: list, message: str
) -> None:
    from lepton_core.spark.preprocessing import fit_preprocessor

    frame = pd.DataFrame({column: values, "other": range(len(values))})
    with pytest.raises(DataError, match=message):
        TabularPreprocessor().fit(frame)
    with pytest.raises(DataError, match=message):
        fit_preprocessor(
            spark.createDataFrame(frame.astype({column: object}) if frame[column].dtype == object else frame)
        )


def test_the_output_may_not_replace_the_input(example_run: Path, tmp_path: Path) -> None:
    from lepton_core.errors import ConfigError
    from lepton_core.spark.predict import predict_spark

    _points(5).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(ConfigError, match="would replace the input"):
        predict_spark(example_run / "bundle", str(tmp_path / "in.parquet"), str(tmp_path / "in.parquet"))
    assert len(pd.read_parquet(tmp_path / "in.parquet")) == 5


def _streamed_credit(folder: Path, n_rows: int = 3000) -> pd.DataFrame:
    """The credit demo as two Parquet files of several row groups (one table to the streaming reader)."""
    from lepton_finance.demo import DEMOS

    frame = DEMOS["credit"][1](n_rows=n_rows, seed=0)
    folder.mkdir()
    half = n_rows // 2
    frame.iloc[:half].to_parquet(folder / "a.parquet", row_group_size=400)
    frame.iloc[half:].to_parquet(folder / "b.parquet", row_group_size=400)
    return frame


STREAMED = {"target": "default", "drop": ["applicant_id", "application_date"], "streaming": True, "seed": 0}


def _all_training_rows_fit(frame: pd.DataFrame, seed: int = 0) -> dict:
    from lepton_core.tabular.streaming import split_codes

    train = frame.loc[split_codes(np.arange(len(frame)), seed, 0.15, 0.15) == 0]
    return TabularPreprocessor().fit(train.drop(columns=[*STREAMED["drop"], "default"])).to_state()


def test_fit_engine_spark_fits_every_training_row_of_a_streamed_table(spark, tmp_path: Path) -> None:
    from lepton_finance.data import FinanceDataModule

    frame = _streamed_credit(tmp_path / "credit")
    options = {**STREAMED, "path": str(tmp_path / "credit"), "streaming_sample_rows": 200}
    on_spark = FinanceDataModule(fit_engine="spark", spark_master="local[2]", **options)
    on_spark.setup()
    expected = _all_training_rows_fit(frame)
    _assert_states_equal(on_spark.preprocessor.to_state(), expected)
    on_sample = FinanceDataModule(**options)
    on_sample.setup()
    assert on_sample.preprocessor.to_state()["median"] != expected["median"], "the sample fit differs"
    handed = FinanceDataModule(preprocessor_state=expected, **options)
    handed.setup()
    assert handed.preprocessor.to_state() == expected


def test_launcher_spark_fits_the_preprocessing_once_on_the_driver(spark, tmp_path: Path) -> None:
    from lepton_core.spark.training import driver_preprocessor_state
    from lepton_core.testing.kit import composed_config

    frame = _streamed_credit(tmp_path / "credit")
    overrides = [f"data.path={tmp_path / 'credit'}", "data.target=default", "data.streaming=true",
                 "data.drop=[applicant_id,application_date]", "launcher=spark"]
    with composed_config("finance", "credit_scoring", overrides, run_dir=tmp_path / "run") as cfg:
        assert driver_preprocessor_state(cfg, spark) is None
    with composed_config("finance", "credit_scoring", [*overrides, "data.fit_engine=spark"]) as cfg:
        expected = _all_training_rows_fit(frame, seed=cfg.data.seed)
        _assert_states_equal(driver_preprocessor_state(cfg, spark), expected)


def test_fit_engine_spark_needs_a_streamed_table() -> None:
    from lepton_finance.data import FinanceDataModule

    from lepton_core.errors import ConfigError

    with pytest.raises(ConfigError, match="set data.streaming=true"):
        FinanceDataModule(fit_engine="spark")
    with pytest.raises(ConfigError, match="use pandas or spark"):
        FinanceDataModule(fit_engine="dask")
