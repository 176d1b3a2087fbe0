"""Defect detection: folder layouts, bad inputs, thresholds, scorer, models, baselines and the predictor."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from lepton_core import ConfigError, DataError
from lepton_manufacturing.defects.anomaly_maps import AnomalyScorer, gaussian_kernel
from lepton_manufacturing.defects.data import DefectDataModule, encode_png
from lepton_manufacturing.defects.model import SurfaceAutoencoder
from lepton_manufacturing.defects.predictor import DefectPredictor
from lepton_manufacturing.defects.surfaces import generate_surfaces, read_mvtec
from lepton_manufacturing.defects.threshold import choose_threshold, decision_metrics


def test_generated_surfaces_are_deterministic_with_masks_on_defects() -> None:
    train, test = generate_surfaces(4, 3, 4, 32, seed=1)
    again = generate_surfaces(4, 3, 4, 32, seed=1)[1]
    np.testing.assert_array_equal(test.images, again.images)
    assert train.images.shape == (4, 3, 32, 32) and train.images.dtype == np.uint8
    assert set(test.kinds) == {"good", "scratch", "spot"}
    assert test.masks is not None
    assert all(test.masks[i].sum() > 0 for i in np.flatnonzero(test.labels))
    assert all(test.masks[i].sum() == 0 for i in np.flatnonzero(test.labels == 0))


def test_mvtec_layout_reads_train_test_and_masks(mvtec_dir: Path) -> None:
    train, test = read_mvtec(mvtec_dir, size=32, channels=3)
    assert len(train) == 24 and train.labels.sum() == 0
    assert len(test) == 16 and test.labels.sum() == 8
    assert test.masks is not None and test.has_mask is not None and test.has_mask.all()
    assert test.masks[test.labels == 1].sum() > 0


def test_datamodule_moves_a_share_of_labelled_images_to_calibration(mvtec_dir: Path) -> None:
    dm = DefectDataModule(path=str(mvtec_dir), image_size=32, calibration_fraction=0.25, seed=0)
    dm.setup()
    assert len(dm.sets["train"]) + len(dm.sets["val"]) == 24
    assert dm.sets["calibration"].labels.sum() >= 2 and dm.sets["test"].labels.sum() >= 4
    test_names, calibration_names = set(dm.sets["test"].names), set(dm.sets["calibration"].names)
    assert test_names.isdisjoint(calibration_names)
    assert dm.model_kwargs() == {"channels": 3, "image_size": 32}


def test_folder_without_train_good_is_a_clear_error(tmp_path: Path, mvtec_dir: Path) -> None:
    shutil.rmtree(mvtec_dir / "train")
    with pytest.raises(DataError, match="has no train/good folder"):
        DefectDataModule(path=str(mvtec_dir)).setup()
    with pytest.raises(DataError, match="image folder not found"):
        DefectDataModule(path=str(tmp_path / "missing")).setup()


def test_mixed_image_sizes_are_resized_or_refused(mvtec_dir: Path) -> None:
    odd = mvtec_dir / "train" / "good" / "000.png"
    Image.open(odd).resize((40, 36)).save(odd)
    with pytest.raises(DataError, match="mixed sizes .*set data.image_size"):
        DefectDataModule(path=str(mvtec_dir), image_size=None).setup()
    dm = DefectDataModule(path=str(mvtec_dir), image_size=32)
    dm.setup()
    assert dm.image_shape == (3, 32, 32)


def test_normal_abnormal_folder_layout(tmp_path: Path) -> None:
    train, test = generate_surfaces(20, 0, 6, 32, seed=2)
    for index, image in enumerate(train.images):
        Image.fromarray(image.transpose(1, 2, 0)).save(_mkdir(tmp_path / "normal") / f"{index}.png")
    for index, image in enumerate(test.images):
        Image.fromarray(image.transpose(1, 2, 0)).save(_mkdir(tmp_path / "abnormal" / test.kinds[index]) / f"{index}.png")
    dm = DefectDataModule(path=str(tmp_path), image_size=32, channels=1, seed=0)
    dm.setup()
    assert dm.source.startswith("folders layout")
    assert dm.image_shape == (1, 32, 32)
    assert set(dm.sets["test"].kinds) == {"good", "scratch", "spot"}
    (tmp_path / "abnormal").rename(tmp_path / "other")
    with pytest.raises(DataError, match="abnormal/ has 0"):
        DefectDataModule(path=str(tmp_path), layout="folders").setup()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_threshold_methods() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.35])
    labels = np.array([0, 0, 0, 1, 1, 1])
    f1 = choose_threshold(scores, labels, "f1")
    assert 0.3 < f1["threshold"] <= 0.35 and f1["method"] == "f1"
    strict = choose_threshold(scores, labels, "cost", cost_missed_defect=1.0, cost_false_reject=100.0)
    assert strict["threshold"] > 0.3
    quantile = choose_threshold(scores, labels, "quantile", normal_quantile=0.5)
    assert quantile["threshold"] == pytest.approx(0.2)
    fallback = choose_threshold(scores[:3], labels[:3], "f1")
    assert fallback["method"] == "quantile"
    with pytest.raises(ConfigError, match="unknown task.threshold.method"):
        choose_threshold(scores, labels, "magic")
    metrics = decision_metrics(scores, labels, 0.5, (10.0, 1.0))
    assert metrics["recall"] == pytest.approx(2 / 3) and metrics["false_reject_rate"] == 0.0
    assert metrics["cost_per_part"] == pytest.approx(10 / 6)


def test_scorer_smooths_and_scores_by_maximum() -> None:
    kernel = gaussian_kernel(1.0)
    assert kernel.shape == (1, 1, 7, 7) and float(kernel.sum()) == pytest.approx(1.0)
    error = torch.zeros(2, 3, 16, 16)
    error[1, :, 8, 8] = 1.0
    scores, maps = AnomalyScorer(1.0)(error)
    assert maps.shape == (2, 16, 16) and scores[0] == 0 and scores[1] > 0
    assert maps[1].argmax() == 8 * 16 + 8


@pytest.mark.parametrize("variational", [True, False])
def test_autoencoder_shapes_and_bad_sizes(variational: bool) -> None:
    model = SurfaceAutoencoder(channels=1, image_size=32, variational=variational, base_channels=4).eval()
    scores, maps = model(torch.rand(2, 1, 32, 32))
    assert scores.shape == (2,) and maps.shape == (2, 32, 32)
    model.train()
    loss, recon = model._loss(torch.rand(2, 1, 32, 32))
    assert float(loss) >= float(recon) if variational else float(loss) == float(recon)
    with pytest.raises(ConfigError, match="is not a multiple of 16"):
        SurfaceAutoencoder(image_size=36)


def _predictor(threshold: float = 0.01) -> DefectPredictor:
    model = SurfaceAutoencoder(channels=3, image_size=32, base_channels=4).eval()
    return DefectPredictor(model, {"channels": 3, "height": 32, "width": 32, "decision": {"threshold": threshold}})


def test_predictor_scores_resizes_and_returns_a_heatmap() -> None:
    _, test = generate_surfaces(0, 1, 1, 32, seed=0)
    predictor = _predictor()
    out = predictor.predict([{"image": encode_png(image)} for image in test.images])
    assert {"anomaly_score", "is_defect", "threshold", "heatmap"} <= set(out[0])
    heatmap = Image.open(io.BytesIO(base64.b64decode(out[0]["heatmap"])))
    assert heatmap.size == (32, 32)
    big = Image.fromarray(test.images[0].transpose(1, 2, 0)).resize((64, 64))
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    resized = predictor.predict([{"image": base64.b64encode(buffer.getvalue()).decode()}])
    assert np.isfinite(resized[0]["anomaly_score"])


@pytest.mark.parametrize(
    ("item", "message"),
    [({"image": "not base64!"}, "not valid base64"), ({"image": base64.b64encode(b"text").decode()}, "not an image")],
)
def test_predictor_refuses_bad_images(item: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=message):
        _predictor().predict([item])
