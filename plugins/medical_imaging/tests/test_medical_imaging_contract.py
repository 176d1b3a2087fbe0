"""The core's plugin contract kit on the demo data (tiny settings)."""

from __future__ import annotations

from pathlib import Path

from lepton_core.testing import check_plugin


def test_medical_imaging_contract(tmp_path: Path) -> None:
    report = check_plugin(
        "medical_imaging",
        tmp_path,
        task="image_classification",  # patient_risk has its own contract test (test_patient_risk.py)
        overrides=["data.demo_images=96", "data.size=32", "model.width=8", "data.batch_size=16"],
    )
    metrics = report.tasks["image_classification"].metrics
    assert {"model", "logistic_pixels"} <= set(metrics)
