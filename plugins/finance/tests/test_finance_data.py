"""Finance data: demo tables, target encoding, splits, and every bad input as a one-line DataError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lepton_finance.data import FinanceDataModule
from lepton_finance.demo import card_transactions, credit_applications

from lepton_core.errors import ConfigError, DataError


def _credit_csv(tmp_path: Path, n_rows: int = 600, **changes: object) -> Path:
    frame = credit_applications(n_rows, seed=1)
    frame["status"] = np.where(frame.pop("default") == 1, "bad", "good")
    frame["ssn"] = [f"999-{i:06d}" for i in range(n_rows)]
    for column, values in changes.items():
        frame[column] = values
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    return path


def _module(path: Path, **kwargs: object) -> FinanceDataModule:
    options = {"target": "status", "positive_label": "bad", "id_column": "applicant_id", "drop": ["ssn"],
               "time_column": "application_date"}
    options.update(kwargs)
    return FinanceDataModule(path=str(path), **options)


def test_demo_tables_are_deterministic_with_the_documented_rates() -> None:
    credit = credit_applications(5000, seed=3)
    assert credit.equals(credit_applications(5000, seed=3))
    assert 0.15 < credit["default"].mean() < 0.21
    assert credit["annual_income"].isna().any() and credit["employment_type"].isna().any()
    fraud = card_transactions(40000, seed=3)
    assert 0.003 < fraud["is_fraud"].mean() < 0.007
    assert {"amount", "timestamp", "merchant_category"} <= set(fraud.columns)


def test_demo_datamodule_defaults_to_out_of_time_split() -> None:
    dm = FinanceDataModule(demo="credit", n_rows=1000, seed=0)
    dm.setup()
    assert dm.target == "default" and dm.time_column == "application_date"
    assert dm.frames["train"]["applicant_id"].max() < dm.frames["test"]["applicant_id"].min()
    assert dm.labels == (0, 1)
    assert "application_date" not in dm.preprocessor.columns
    assert dm.model_kwargs()["positive_rate"] == pytest.approx(dm.targets["train"].mean())


def test_user_table_with_text_labels_and_dropped_columns(tmp_path: Path) -> None:
    dm = _module(_credit_csv(tmp_path))
    dm.setup()
    assert dm.labels == ("good", "bad")
    assert set(np.unique(dm.targets["train"])) == {0.0, 1.0}
    assert "ssn" not in dm.preprocessor.columns
    assert all("ssn" not in frame.columns for frame in dm.frames.values())
    state = str(dm.export_state()) + str(dm.summary()) + str(dm.input_example()) + str(dm.reference_inputs())
    assert "ssn" not in state and "999-" not in state
    assert dm.summary()["dropped columns"] == 1


def test_random_stratified_split_without_time_column(tmp_path: Path) -> None:
    dm = _module(_credit_csv(tmp_path), time_column=None, drop=["ssn", "application_date"])
    dm.setup()
    rates = [dm.targets[s].mean() for s in ("train", "val", "test")]
    assert max(rates) - min(rates) < 0.03


def test_auto_positive_label_for_zero_one_targets(tmp_path: Path) -> None:
    path = _credit_csv(tmp_path, status=credit_applications(600, seed=1)["default"])
    dm = _module(path, positive_label=None)
    dm.setup()
    assert dm.labels == (0, 1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: _module(p.parent / "absent.csv"), r"^data file not found: .*absent\.csv\. Fix: check data\.path\.$"),
        (lambda p: _module(p.with_suffix(".xlsx")), r"unsupported file type '\.xlsx'.*\.parquet"),
        (lambda p: _module(p, target="outcome"), r"target column 'outcome' not found"),
        (lambda p: _module(p, positive_label="late"), r"positive_label='late' is not a class"),
        (lambda p: _module(p, positive_label=None), r"which one is the event to predict"),
        (lambda p: _module(p, drop=["ssn", "nope"]), r"data.drop names unknown column\(s\) nope"),
        (lambda p: _module(p, time_column="region"), r"time column 'region' has values that are not dates"),
    ],
)
def test_bad_options_raise_one_line_data_errors(tmp_path: Path, build: object, message: str) -> None:
    path = _credit_csv(tmp_path)
    path.with_suffix(".xlsx").write_text("x")
    with pytest.raises(DataError, match=message) as caught:
        build(path).setup()  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_empty_table(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        _module(tmp_path / "empty.csv").setup()
    (tmp_path / "header.parquet").write_bytes(b"")
    pd.DataFrame({"status": pd.Series([], dtype=str)}).to_parquet(tmp_path / "header.parquet")
    with pytest.raises(DataError, match="no rows"):
        FinanceDataModule(path=str(tmp_path / "header.parquet"), target="status").setup()


def test_target_with_one_class(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"target 'status' has a single class \('good'\)"):
        _module(_credit_csv(tmp_path, status="good")).setup()


def test_target_with_more_than_two_classes(tmp_path: Path) -> None:
    labels = np.resize(["good", "bad", "late"], 600)
    with pytest.raises(DataError, match=r"target 'status' has 3 classes \('bad', 'good', 'late'\)"):
        _module(_credit_csv(tmp_path, status=labels)).setup()


def test_all_missing_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"column 'bonus' has no values \(all missing\).*data.drop=\[bonus\]"):
        _module(_credit_csv(tmp_path, bonus=np.nan)).setup()


def test_column_that_changes_type(tmp_path: Path) -> None:
    late = credit_applications(600, seed=1)["annual_income"].astype(object)
    late[590:593] = "unknown"  # the latest rows: the test split of the out-of-time split
    with pytest.raises(DataError, match=r"column 'annual_income' changed type: it was numeric in training .*'unknown'"):
        _module(_credit_csv(tmp_path, annual_income=late)).setup()
    early = credit_applications(600, seed=1)["annual_income"].astype(object)
    early[5:8] = "unknown"
    with pytest.raises(DataError, match=r"column 'annual_income' is numeric but has 3 text value\(s\) like 'unknown'"):
        _module(_credit_csv(tmp_path, annual_income=early)).setup()


def test_unknown_demo_and_missing_target_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown demo 'mortgage'"):
        FinanceDataModule(demo="mortgage")
    with pytest.raises(ConfigError, match="no target column given"):
        FinanceDataModule(path=str(_credit_csv(tmp_path))).setup()
