"""End to end through the real CLI: each task runs, its bundle predicts, dropped columns stay out, bad data fails cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from lepton_finance.demo import credit_applications

from lepton_core.bundle import load_bundle
from lepton_core.testing.cli import latest_run, run_lepton


def _check_run(tmp_path: Path, task: str) -> tuple[Path, dict]:
    run_dir = latest_run(tmp_path, "finance", task)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["metrics"]) >= {"model", "logistic"}
    for name in ("roc_auc", "gini", "ks", "pr_auc", "brier", "precision", "recall", "f1", "expected_cost"):
        assert name in metrics["metrics"]["model"]
    bundle = load_bundle(run_dir / "bundle")
    outputs = bundle.predictor.predict(bundle.manifest["input_example"])
    assert len(outputs) == len(bundle.manifest["input_example"])
    first = outputs[0]
    assert 0 <= first["probability"] <= 1 and first["decision"] and len(first["reason_codes"]) == 3
    return run_dir, bundle.manifest


def test_fraud_detection_demo_end_to_end(tmp_path: Path) -> None:
    result = run_lepton(
        ["run", "plugin=finance", "task=fraud_detection", "debug=smoke", "data.n_rows=8000",
         "baselines.gradient_boosting.enabled=true"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir, manifest = _check_run(tmp_path, "fraud_detection")
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert "gradient_boosting" in metrics
    assert manifest["output_example"][0]["decision"] in {"review", "approve"}
    assert manifest["input_example"][0]["transaction_id"] == "example-1"  # made up: no transaction of the data


def test_credit_scoring_on_a_user_csv_keeps_dropped_columns_out(tmp_path: Path) -> None:
    frame = credit_applications(1500, seed=2)
    frame["status"] = np.where(frame.pop("default") == 1, "bad", "good")
    frame["national_id"] = [f"NID{i:06d}X" for i in range(len(frame))]
    frame.to_parquet(tmp_path / "loans.parquet")
    result = run_lepton(
        ["run", "plugin=finance", "debug=smoke", "data.path=loans.parquet", "data.target=status",
         "data.positive_label=bad", "data.id_column=applicant_id", "data.time_column=application_date",
         "data.drop=[national_id]"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir, manifest = _check_run(tmp_path, "credit_scoring")
    assert manifest["output_example"][0]["label"] in {"bad", "good"}
    assert "national_id" not in manifest["input_schema"]["properties"]
    for path in [*run_dir.joinpath("bundle").iterdir(), run_dir / "report.html", run_dir / "metrics.json"]:
        text = path.read_text(errors="ignore")
        assert "NID0" not in text, path
        if path.name != "config.yaml":  # the resolved config records the data.drop option itself
            assert "national_id" not in text, path


def test_bad_data_fails_with_one_error_line(tmp_path: Path) -> None:
    frame = credit_applications(300, seed=2)
    frame["default"] = 0
    frame.to_csv(tmp_path / "one_class.csv", index=False)
    result = run_lepton(
        ["run", "plugin=finance", "debug=smoke", "data.path=one_class.csv", "data.target=default"], tmp_path
    )
    assert result.returncode == 3
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert errors == ["error: target 'default' has a single class ('0'). Fix: give a table with both outcomes."]
