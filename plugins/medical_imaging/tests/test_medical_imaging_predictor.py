"""The predictor: PNG and DICOM bytes in, probabilities (and Grad-CAM) out; bad inputs are DataErrors."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
import torch
from lepton_medical_imaging.data import png_base64
from lepton_medical_imaging.dicom import write_dicom
from lepton_medical_imaging.models import ARCHITECTURES, ImageClassifier, build_backbone
from lepton_medical_imaging.predictor import MedicalImagePredictor

from lepton_core.errors import DataError

STATE = {
    "class_names": ["normal", "lesion"],
    "size": [16, 16],
    "channels": 1,
    "mean": [0.4],
    "std": [0.2],
    "dicom": {"window_center": None, "window_width": None, "frame": "middle"},
}


@pytest.fixture
def predictor() -> MedicalImagePredictor:
    torch.manual_seed(0)
    module = ImageClassifier(num_classes=2, in_channels=1, arch="small_cnn", width=4).eval()
    return MedicalImagePredictor(module, STATE)


def test_png_and_dicom_items(predictor: MedicalImagePredictor, tmp_path: Path) -> None:
    png = png_base64(np.random.default_rng(0).integers(0, 255, (1, 20, 24), dtype=np.uint8))
    dicom = base64.b64encode(
        write_dicom(tmp_path / "x.dcm", np.arange(400, dtype=np.uint16).reshape(20, 20)).read_bytes()
    ).decode()
    out = predictor.predict([{"image": png}, {"image": dicom, "gradcam": True}])
    assert [set(o["probabilities"]) for o in out] == [{"normal", "lesion"}] * 2
    assert abs(sum(out[0]["probabilities"].values()) - 1) < 1e-6
    assert out[0]["heatmap"] is None
    heatmap = np.asarray(out[1]["heatmap"])
    assert heatmap.shape == (16, 16) and heatmap.min() >= 0 and heatmap.max() <= 1


def test_bad_items(predictor: MedicalImagePredictor) -> None:
    with pytest.raises(DataError, match="not valid base64"):
        predictor.predict([{"image": "%%%"}])
    with pytest.raises(DataError, match="input item 0 \\(image\\) is not an image"):
        predictor.predict([{"image": base64.b64encode(b"plain text, not pixels").decode()}])
    with pytest.raises(DataError, match="field 'image'"):
        predictor.predict([{"picture": "abc"}])


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if a != "resnet50"])  # resnet50 adapts as resnet18
def test_every_architecture_builds_for_grayscale(arch: str) -> None:
    model = build_backbone(arch, num_classes=3, in_channels=1)
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 1, 32, 32)).shape == (1, 3)


def test_local_weights_file(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    source = build_backbone("small_cnn", num_classes=5, in_channels=1, width=4)
    save_file(source.state_dict(), tmp_path / "w.safetensors")
    loaded = ImageClassifier(
        num_classes=2, in_channels=1, arch="small_cnn", width=4, weights_path=str(tmp_path / "w.safetensors")
    )
    torch.testing.assert_close(loaded.backbone.features[0].weight, source.features[0].weight)
    with pytest.raises(DataError, match="weights_path not found"):
        ImageClassifier(num_classes=2, arch="small_cnn", width=4, weights_path=str(tmp_path / "none.pt"))
    (tmp_path / "bad.pt").write_text("nope")
    with pytest.raises(DataError, match="not a readable weights file"):
        ImageClassifier(num_classes=2, arch="small_cnn", width=4, weights_path=str(tmp_path / "bad.pt"))


def test_jpeg_item_and_gradcam_with_an_external_runner(predictor: MedicalImagePredictor) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (30, 30, 3), dtype=np.uint8)).save(
        buffer, "JPEG"
    )
    item = {"image": base64.b64encode(buffer.getvalue()).decode(), "gradcam": True}
    expected = predictor.predict([item])[0]
    calls = []

    def runner(inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        calls.append(len(inputs[0]))
        with torch.no_grad():
            return predictor.module(*inputs)

    predictor.runner = (
        runner  # as ONNX Runtime would be: probabilities from it, Grad-CAM from the torch module
    )
    output = predictor.predict([item])[0]
    assert calls == [1]
    assert output["label"] == expected["label"] and np.asarray(output["heatmap"]).shape == (16, 16)
