"""End to end through the real CLI: a multi-class image folder, a DICOM directory with patients, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lepton_medical_imaging.demo import write_demo_dicom

from lepton_core.bundle import load_bundle
from lepton_core.testing import latest_run, run_lepton

TINY = ["debug=smoke", "data.size=24", "model.width=8", "data.batch_size=16"]


@pytest.mark.slow
def test_multiclass_folder_run_and_bundle(tmp_path: Path, folder_writer: Callable[..., Path]) -> None:
    folder = folder_writer(tmp_path / "scans", {"benign": 14, "malignant": 14, "normal": 14})
    done = run_lepton(
        ["run", "plugin=medical_imaging", f"data.path={folder}", "data.channels=3", *TINY], tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = latest_run(tmp_path, "medical_imaging", "image_classification")
    metrics = json.loads((run / "metrics.json").read_text())
    model = metrics["metrics"]["model"]
    assert {
        "roc_auc",
        "roc_auc_ci_low",
        "accuracy",
        "f1_macro",
        "ece",
        "sensitivity_malignant",
        "specificity_normal",
    } <= set(model)
    assert (run / "figures" / "confusion.png").is_file() and list((run / "figures").glob("gradcam_*.png"))
    bundle = load_bundle(run / "bundle")
    outputs = bundle.predictor.predict(bundle.manifest["input_example"])
    assert set(outputs[0]["probabilities"]) == {"benign", "malignant", "normal"}
    assert len(outputs[1]["heatmap"]) == 24


@pytest.mark.slow
def test_dicom_directory_with_patients_and_a_broken_file(tmp_path: Path) -> None:
    root = write_demo_dicom(tmp_path / "dicom", n_images=80, size=24, seed=5, per_patient=2)
    (root / "scan_00007.dcm").write_bytes(b"\0" * 128 + b"DICM")
    args = [
        "run",
        "plugin=medical_imaging",
        f"data.path={root}",
        "data.patient_column=patient_id",
        "data.on_error=skip",
    ]
    done = run_lepton([*args, *TINY], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = json.loads(
        (latest_run(tmp_path, "medical_imaging", "image_classification") / "metrics.json").read_text()
    )
    assert metrics["data"]["skipped files"] == 1 and metrics["data"]["patients"] == 40


def test_empty_folder_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_lepton(["run", "plugin=medical_imaging", f"data.path={tmp_path / 'empty'}", *TINY], tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 3
    assert "Traceback" not in output
    expected = (
        f"error: {tmp_path / 'empty'} has no class subfolders (expected <class>/<image> files). "
        "Fix: put each class's images in a subfolder named after it."
    )
    assert [line for line in output.splitlines() if line.startswith("error:")] == [expected]
