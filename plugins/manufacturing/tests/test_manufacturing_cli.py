"""End to end through the real CLI: both tasks on files, export parity, and bad input as one clear error."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lepton_core.bundle import load_bundle
from lepton_core.testing.cli import latest_run, run_lepton
from lepton_manufacturing.maintenance.data import MaintenanceDataModule

pytestmark = pytest.mark.slow


def _ok(result: Any) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


def test_predictive_maintenance_on_cmapss_files_with_export_parity(tmp_path: Path, cmapss_writer: Any) -> None:
    data = cmapss_writer(tmp_path / "cmapss", units=10, test_units=5)
    args = [f"data.path={data}", "data.window=20", "model.hidden_size=8", "baselines.gradient_boosting.max_iter=20"]
    _ok(run_lepton(["run", "plugin=manufacturing", "task=predictive_maintenance", "debug=smoke", *args], tmp_path))
    run = latest_run(tmp_path, "manufacturing", "predictive_maintenance")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["primary_metric"] == "rmse" and not metrics["greater_is_better"]
    assert {"rmse", "mae", "phm08_score"} <= set(metrics["metrics"]["model"])
    assert "gradient_boosting" in metrics["metrics"]
    assert set(metrics["metric_directions"]) == set(metrics["metrics"]["model"])
    bundle = load_bundle(run / "bundle")
    assert len(bundle.predictor.predict(bundle.manifest["input_example"])) == 2
    dm = MaintenanceDataModule(path=str(data), window=20, seed=42)
    dm.setup()
    items = [{"readings": {c: w[:, i].tolist() for i, c in enumerate(dm.channels)}} for w in dm.splits["test"].raw]
    deployed = [p["rul"] for p in bundle.predictor.predict(items)]
    evaluated = pd.read_csv(run / "test_predictions.csv")["rul_model"].to_numpy()
    np.testing.assert_allclose(deployed, evaluated, rtol=1e-5, atol=1e-4)


def test_defect_detection_on_mvtec_folder_with_export_parity(tmp_path: Path, mvtec_writer: Any) -> None:
    data = mvtec_writer(tmp_path / "surface", n_train=24, n_good=8, n_defect=8, size=32)
    args = [f"data.path={data}", "data.image_size=32", "model.base_channels=4", "model.latent_dim=8"]
    _ok(run_lepton(["run", "plugin=manufacturing", "debug=smoke", *args], tmp_path))
    run = latest_run(tmp_path, "manufacturing", "defect_detection")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["primary_metric"] == "image_auroc"
    assert {"image_auroc", "f1", "pixel_auroc"} <= set(metrics["metrics"]["model"])
    assert {"pixel_gaussian", "pca"} <= set(metrics["metrics"])
    assert set(metrics["metric_directions"]) == set(metrics["metrics"]["model"]) - {"threshold"}
    model = metrics["metrics"]["model"]
    for baseline in ("pixel_gaussian", "pca"):  # a baseline that localises better is named in the verdict
        wins = metrics["baseline_wins_on"].get(baseline, [])
        assert ("pixel_auroc" in wins) == (metrics["metrics"][baseline]["pixel_auroc"] > model["pixel_auroc"])
    assert (run / "figures" / "worst_misses.png").is_file() and (run / "figures" / "worst_false_alarms.png").is_file()
    bundle = load_bundle(run / "bundle")
    example = bundle.predictor.predict(bundle.manifest["input_example"])
    assert isinstance(example[0]["is_defect"], bool) and example[0]["heatmap"]
    scores = pd.read_csv(run / "test_scores.csv")
    items = [{"image": base64.b64encode((data / name).read_bytes()).decode()} for name in scores["image"]]
    deployed = np.array([p["anomaly_score"] for p in bundle.predictor.predict(items)])
    np.testing.assert_allclose(deployed, scores["score_model"].to_numpy(), rtol=1e-5, atol=1e-7)
    threshold = bundle.state["decision"]["threshold"]
    assert [p["is_defect"] for p in bundle.predictor.predict(items)] == (deployed >= threshold).tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data.path={folder}"], "has no train/good folder"),
        (["task=predictive_maintenance", "data.path={csv}", "data.sensor_columns=[temp,pressure]"], "lacks column(s) pressure"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    folder = tmp_path / "parts"
    (folder / "test" / "good").mkdir(parents=True)
    csv = tmp_path / "fleet.csv"
    pd.DataFrame({"unit": [1, 1], "cycle": [1, 2], "temp": [1.0, 2.0]}).to_csv(csv, index=False)
    filled = [a.format(folder=folder, csv=csv) for a in args]
    result = run_lepton(["run", "plugin=manufacturing", "debug=smoke", *filled], tmp_path)
    assert result.returncode == 3, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0]
