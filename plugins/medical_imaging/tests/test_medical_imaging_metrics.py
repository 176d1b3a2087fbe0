"""Clinical metrics: per-class sensitivity/specificity, macro AUC with a bootstrap interval, calibration."""

from __future__ import annotations

import numpy as np
from lepton_medical_imaging.evaluation import classification_metrics, per_class_rates


def test_per_class_rates_from_a_known_confusion_matrix() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pred = np.array([0, 0, 0, 1, 1, 1, 0, 0])
    rates = per_class_rates(y, pred, 2)
    np.testing.assert_allclose(rates["sensitivity"], [0.75, 0.5])
    np.testing.assert_allclose(rates["specificity"], [0.5, 0.75])
    np.testing.assert_allclose(rates["support"], [4, 4])


def test_binary_metrics_names_and_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, 0.2, 300), 0.01, 0.99)
    metrics = classification_metrics(y, np.stack([1 - p1, p1], axis=1), ["normal", "lesion"], n_boot=100)
    for key in (
        "roc_auc",
        "accuracy",
        "f1",
        "f1_macro",
        "ece",
        "balanced_accuracy",
        "sensitivity_lesion",
        "specificity_lesion",
    ):
        assert key in metrics
    assert metrics["roc_auc_ci_low"] <= metrics["roc_auc"] <= metrics["roc_auc_ci_high"]
    assert metrics["sensitivity_lesion"] == metrics["specificity_normal"]


def test_multiclass_metrics_use_slugged_class_names() -> None:
    y = np.repeat(np.arange(3), 20)
    probs = np.full((60, 3), 0.1)
    probs[np.arange(60), y] = 0.8
    metrics = classification_metrics(y, probs, ["Benign", "Malignant (high grade)", "normal"], n_boot=50)
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0
    assert metrics["sensitivity_malignant_high_grade"] == 1.0 and metrics["specificity_benign"] == 1.0
    assert abs(metrics["ece"] - 0.2) < 1e-9
