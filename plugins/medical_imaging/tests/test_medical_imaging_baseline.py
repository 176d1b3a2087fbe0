"""The baseline learns the demo's lesions, and temperature scaling is kept only when it lowers validation ECE."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from lepton_medical_imaging.baselines import PixelLogisticBaseline
from lepton_medical_imaging.demo import make_demo_scans
from lepton_medical_imaging.evaluation import calibrate_temperature, fit_temperature
from lepton_medical_imaging.models import ImageClassifier
from scipy.special import softmax
from sklearn.metrics import roc_auc_score

from lepton_core.metrics.classification import expected_calibration_error


def test_pixel_baseline_finds_lesions_at_random_positions() -> None:
    images, labels = make_demo_scans(360, 48, seed=5)
    stack, target = torch.from_numpy(images)[:, None], torch.from_numpy(labels)
    data = SimpleNamespace(splits={"train": (stack[:240], target[:240])}, class_names=("normal", "lesion"))
    baseline = PixelLogisticBaseline().fit(data)
    probs = baseline.predict(stack[240:])
    assert probs.shape == (120, 2)
    assert roc_auc_score(labels[240:], probs[:, 1]) > 0.8


def _calibrated(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds and labels drawn from them: sigmoid(logit) is the true probability of class 1."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(0.0, 2.0, count)
    return logit, (rng.random(count) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def test_fit_temperature_undoes_overconfidence() -> None:
    logit, labels = _calibrated(4000, seed=0)
    calibrated = np.stack([np.zeros(4000), logit], axis=1)
    assert abs(fit_temperature(3.0 * calibrated, labels) - 3.0) < 0.4


class _Logits(torch.nn.Module):
    """A backbone whose logits are the first two pixels of its input, times a scale."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :2] * self.scale


def test_calibration_is_applied_only_when_it_lowers_validation_ece() -> None:
    logit, labels = _calibrated(600, seed=1)
    inputs = torch.from_numpy(np.stack([np.zeros(600), logit], axis=1)).float()[:, None, :, None]
    model = ImageClassifier(num_classes=2, arch="small_cnn", width=4)
    model.backbone = _Logits(4.0)  # four times too confident
    data = SimpleNamespace(
        splits={"val": (inputs, torch.from_numpy(labels))}, val_dataloader=lambda: [(inputs, torch.from_numpy(labels))]
    )
    note = calibrate_temperature(model, data)
    raw = softmax(4.0 * inputs[:, 0, :, 0].numpy(), axis=1)
    served = softmax(model(inputs).detach().numpy(), axis=1)
    assert "applied" in note and "not applied" not in note, note
    assert float(model.temperature) > 2.0
    assert expected_calibration_error(labels, served) < expected_calibration_error(labels, raw)
    model.backbone = _Logits(1.0)  # already calibrated: a fitted T near 1 rarely helps, and is then refused
    note = calibrate_temperature(model, data)
    if "not applied" in note:
        assert float(model.temperature) == 1.0


def test_bundles_without_a_temperature_still_load() -> None:
    model = ImageClassifier(num_classes=2, arch="small_cnn", width=4)
    state = {k: v for k, v in model.state_dict().items() if k != "temperature"}
    fresh = ImageClassifier(num_classes=2, arch="small_cnn", width=4)
    fresh.temperature.fill_(2.0)
    fresh.load_state_dict(state, strict=True)
    assert float(fresh.temperature) == 1.0
