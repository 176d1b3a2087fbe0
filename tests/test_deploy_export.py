"""`lepton export --format onnx`: dynamic batch, parity gate against torch, bundle updated safely, ONNX serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lepton_core.bundle import add_bundle_file, load_bundle, verify_bundle
from lepton_core.deploy import onnx as onnx_module
from lepton_core.deploy.export import export_bundle
from lepton_core.deploy.onnx import attach_runtime
from lepton_core.errors import BundleError, ConfigError, ServeError


@pytest.fixture(scope="module")
def exported(example_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = tmp_path_factory.mktemp("export") / "bundle"
    shutil.copytree(example_run / "bundle", bundle)
    result = export_bundle(bundle, "onnx")
    assert result.max_abs_diff <= 1e-4 and result.n_examples == 2
    return bundle


def test_export_adds_a_parity_checked_model_to_the_manifest(exported: Path) -> None:
    manifest = verify_bundle(exported)
    assert "model.onnx" in manifest["files"]
    record = manifest["onnx"]
    assert record["parity_checked"] and record["parity"]["max_abs_diff"] <= record["parity"]["tolerance"] == 1e-4


def test_onnx_runtime_matches_torch_on_other_batch_sizes(exported: Path) -> None:
    torch_bundle = load_bundle(exported)
    onnx_bundle = load_bundle(exported)
    assert attach_runtime(onnx_bundle.path, onnx_bundle.manifest, onnx_bundle.predictor) == "onnx"
    points = [{"x1": i / 7 - 1.5, "x2": (i % 5) / 3 - 0.6} for i in range(37)]
    expected = torch_bundle.predictor.predict(points)
    got = onnx_bundle.predictor.predict(points)
    assert [g["probability"] for g in got] == pytest.approx([e["probability"] for e in expected], abs=1e-4)


def test_a_parity_failure_refuses_the_export_and_leaves_the_bundle_untouched(
    example_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(example_run / "bundle", bundle)
    before = (bundle / "lepton.json").read_bytes()
    run = onnx_module.OnnxRunner.__call__
    monkeypatch.setattr(onnx_module.OnnxRunner, "__call__", lambda self, inputs: run(self, inputs) + 1e-3)
    with pytest.raises(ServeError, match=r"ONNX export refused: its outputs differ from torch by 0.001"):
        export_bundle(bundle, "onnx")
    assert (bundle / "lepton.json").read_bytes() == before and not (bundle / "model.onnx").exists()


def test_unknown_formats_and_missing_onnx_are_clear_errors(example_run: Path) -> None:
    with pytest.raises(ConfigError, match="unknown export format 'tflite'"):
        export_bundle(example_run / "bundle", "tflite")
    loaded = load_bundle(example_run / "bundle")
    with pytest.raises(ServeError, match="no parity-checked ONNX model"):
        attach_runtime(loaded.path, loaded.manifest, loaded.predictor, "onnx")
    assert attach_runtime(loaded.path, loaded.manifest, loaded.predictor) == "torch"


def test_add_bundle_file_replaces_and_rehashes(exported: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(exported, bundle)
    (tmp_path / "notes.md").write_text("first")
    add_bundle_file(bundle, "notes.md", tmp_path / "notes.md", {"notes": 1})
    (tmp_path / "notes.md").write_text("second")
    manifest = add_bundle_file(bundle, "notes.md", tmp_path / "notes.md", {"notes": 2})
    assert manifest["notes"] == 2 and (bundle / "notes.md").read_text() == "second"
    assert verify_bundle(bundle)["files"].keys() == json.loads((exported / "lepton.json").read_text())["files"].keys() | {
        "notes.md"
    }
    with pytest.raises(BundleError, match="unsafe"):
        add_bundle_file(bundle, "../escape.md", tmp_path / "notes.md")
