"""Bundles: contents, round trip, and refusal of tampered, incomplete or escaping bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lepton_core import BundleError
from lepton_core.bundle import load_bundle, verify_bundle
from lepton_core.bundle.manifest import file_sha256
from lepton_core.testing.cli import run_lepton


@pytest.fixture
def bundle(example_run: Path, tmp_path: Path) -> Path:
    """A private copy of the example run's bundle, safe to tamper with."""
    return Path(shutil.copytree(example_run / "bundle", tmp_path / "bundle"))


def test_run_writes_metrics_report_and_bundle(example_run: Path) -> None:
    metrics = json.loads((example_run / "metrics.json").read_text())
    assert metrics["primary_metric"] == "roc_auc"
    assert set(metrics["metrics"]) == {"model", "logistic"}
    assert metrics["metrics"]["model"]["roc_auc"] > 0.9  # two moons are learnable
    html = (example_run / "report.html").read_text()
    assert "data:image/png;base64," in html and "logistic" in html
    assert (example_run / "figures" / "roc.png").is_file()
    assert (example_run / ".hydra" / "config.yaml").is_file()


def test_manifest_records_versions_schema_example_and_hashes(example_run: Path) -> None:
    manifest = verify_bundle(example_run / "bundle")
    assert manifest["plugin"]["name"] == "example" and manifest["task"] == "classify"
    assert {"lepton_core", "torch", "python", "contract"} <= set(manifest["versions"])
    assert set(manifest["files"]) == {
        "config.yaml", "preprocess.json", "metrics.json", "model_card.md", "weights.safetensors", "drift_reference.json"
    }
    for name, digest in manifest["files"].items():
        assert file_sha256(example_run / "bundle" / name) == digest
    assert set(manifest["input_schema"]["properties"]) == {"x1", "x2"}
    assert len(manifest["input_example"]) == len(manifest["output_example"]) == 2
    assert not list((example_run / "bundle").glob("*.pkl")) and not list((example_run / "bundle").glob("*.ckpt"))


def test_round_trip_predicts_like_at_bundle_time(bundle: Path) -> None:
    loaded = load_bundle(bundle)
    outputs = loaded.predictor.predict(loaded.manifest["input_example"])
    for got, expected in zip(outputs, loaded.manifest["output_example"]):
        assert got["label"] == expected["label"]
        assert got["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    assert loaded.predictor.module.training is False


def test_tampered_weights_are_refused(bundle: Path) -> None:
    weights = bundle / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="weights.safetensors does not match its sha256"):
        load_bundle(bundle)


def test_incomplete_bundle_is_refused(bundle: Path) -> None:
    (bundle / "preprocess.json").unlink()
    with pytest.raises(BundleError, match="incomplete: preprocess.json is missing"):
        load_bundle(bundle)


@pytest.mark.parametrize("name", ["../escape.json", "/etc/passwd", "sub/../../x"])
def test_paths_outside_the_bundle_are_refused(bundle: Path, name: str) -> None:
    manifest = json.loads((bundle / "lepton.json").read_text())
    manifest["files"][name] = "0" * 64
    (bundle / "lepton.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="unsafe file name|outside the bundle"):
        verify_bundle(bundle)


def test_symlink_escaping_the_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    (bundle / "preprocess.json").unlink()
    (bundle / "preprocess.json").symlink_to(outside)
    with pytest.raises(BundleError, match="outside the bundle"):
        verify_bundle(bundle)


def test_not_a_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="bundle not found"):
        verify_bundle(tmp_path / "nope")
    with pytest.raises(BundleError, match="has no lepton.json"):
        verify_bundle(tmp_path)


def test_failed_run_leaves_no_bundle_or_metrics(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "data.path=missing.csv"], tmp_path)
    assert proc.returncode == 3 and "data file not found" in proc.stderr
    assert not list(tmp_path.rglob("lepton.json")) and not list(tmp_path.rglob("metrics.json"))
    assert not list(tmp_path.rglob("report.html"))
