"""patient_risk: the contract kit on tiny demo tables, patient-grouped splits, the patients-table join,
label and split checks, calibration chosen on validation, subgroup flags and the bounded input schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lepton_medical_imaging.patient_risk.data import PatientRiskDataModule
from lepton_medical_imaging.patient_risk.demo import make_demo_tables
from lepton_medical_imaging.patient_risk.evaluation import subgroup_metrics

from lepton_core.bundle import load_bundle
from lepton_core.errors import BundleError, DataError
from lepton_core.metrics.calibration import BinaryCalibrator, fit_calibrator, sigmoid
from lepton_core.metrics.classification import expected_calibration_error
from lepton_core.testing import check_plugin

TINY = ["data.n_patients=300"]


def test_patient_risk_contract_and_bounded_bundle(tmp_path: Path) -> None:
    report = check_plugin("medical_imaging", tmp_path, task="patient_risk", overrides=TINY)
    result = report.tasks["patient_risk"]
    assert {"model", "logistic", "gradient_boosting"} <= set(result.metrics)
    assert {"roc_auc", "pr_auc", "brier", "ece", "worst_subgroup_roc_auc"} <= set(result.metrics["model"])
    predictor = load_bundle(result.bundle_dir).predictor
    example = dict(predictor.input_model.model_json_schema()["examples"][0])
    out = predictor.predict([example])[0]
    assert 0 <= out["probability"] <= 1 and len(out["reasons"]) == 3
    with pytest.raises(DataError, match="field 'age'"):
        predictor.predict([{**example, "age": 500}])
    assert (result.run_dir / "figures" / "subgroups.png").is_file()


def _module(**options: object) -> PatientRiskDataModule:
    module = PatientRiskDataModule(**{"target": "readmitted_30d", "seed": 3, "n_patients": 400, **options})
    module.setup()
    return module


def test_no_patient_is_in_two_splits() -> None:
    module = _module()
    patients = {split: set(ids) for split, ids in module.split_patients.items()}
    assert not patients["train"] & patients["val"] and not patients["train"] & patients["test"]
    assert not patients["val"] & patients["test"]
    assert sum(len(module.targets[s]) for s in patients) == len(make_demo_tables(400, 3)[0])
    assert "patient_id" not in module.preprocessor.columns and "admission_id" not in module.preprocessor.columns


def _tables(tmp_path: Path, change_admissions=None, change_patients=None) -> dict[str, str]:
    admissions, patients = make_demo_tables(200, seed=1)
    admissions = change_admissions(admissions) if change_admissions else admissions
    patients = change_patients(patients) if change_patients else patients
    admissions.to_csv(tmp_path / "admissions.csv", index=False)
    patients.to_parquet(tmp_path / "patients.parquet")
    return {"path": str(tmp_path / "admissions.csv"), "patients_path": str(tmp_path / "patients.parquet")}


def test_patients_table_is_joined(tmp_path: Path) -> None:
    module = _module(**_tables(tmp_path), id_column="admission_id")
    assert {"sex", "insurance"} <= set(module.preprocessor.columns)


@pytest.mark.parametrize(
    ("admissions", "patients", "options", "message"),
    [
        (lambda a: a.drop(columns="patient_id"), None, {}, "patient id column 'patient_id' not found"),
        (None, lambda p: p.iloc[5:], {}, "admission\\(s\\) have a patient id not in the patients table"),
        (None, lambda p: pd.concat([p, p.head(1)]), {}, "lists patient 'P000000' more than once"),
        (None, lambda p: p.assign(age=1), {}, "age appear in both"),
        (lambda a: a.assign(readmitted_30d=np.where(a.index % 2, "yes", "no")), None, {}, "must hold 0 or 1"),
        # the first admission of P000000 (who has several) in test, every other one in train
        (lambda a: a.assign(split=np.where(a.index == 0, "test", "train")), None, {"split_column": "split"},
         "patient 'P000000' has admissions in both test and train"),
    ],
)
def test_bad_tables_raise_one_line(tmp_path: Path, admissions, patients, options: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _module(**_tables(tmp_path, admissions, patients), **options)


def test_calibration_is_kept_only_where_it_lowers_validation_ece() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(-1.0, 1.2, 4000)
    y = (rng.random(4000) < sigmoid(z)).astype(int)
    assert fit_calibrator(3.0 * z, y).method != "none"  # overconfident scores get calibrated
    calibrated = fit_calibrator(3.0 * z, y)
    assert expected_calibration_error(y, calibrated.probability(3.0 * z)) < expected_calibration_error(y, sigmoid(3 * z))
    state = calibrated.to_state()
    assert np.allclose(BinaryCalibrator.from_state(state).probability(z), calibrated.probability(z))
    with pytest.raises(BundleError, match="malformed"):
        BinaryCalibrator.from_state({"method": "platt", "params": {"slope": 1.0}})


def test_small_subgroups_are_flagged() -> None:
    y = np.array([0, 1] * 50 + [1, 0, 0])
    prob = np.linspace(0.1, 0.9, len(y))
    groups = pd.DataFrame({"sex": ["F"] * 100 + ["M"] * 3})
    rows = subgroup_metrics(y, prob, groups, np.arange(len(y)), min_count=50)
    assert [(r["value"], r["admissions"], r["small"]) for r in rows] == [("F", 100, False), ("M", 3, True)]
