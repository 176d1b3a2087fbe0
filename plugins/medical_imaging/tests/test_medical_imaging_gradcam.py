"""Grad-CAM of the default network points at the finding: a bright blob at a random position decides the class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lepton_medical_imaging.models import build_backbone

from lepton_core.vision.gradcam import GradCAM, resolution_layer


def _blob_images(count: int, seed: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Noisy images with two small distractor dots; class 1 also has a bright blob, centred at ``centres``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    images = rng.normal(0.0, 0.3, (count, size, size)).astype(np.float32)
    labels = np.arange(count) % 2
    centres = rng.uniform(10, size - 10, (count, 2))
    for index in range(count):
        for cy, cx in rng.uniform(4, size - 4, (2, 2)):
            images[index] += 0.8 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 2.0)
        if labels[index]:
            cy, cx = centres[index]
            images[index] += 1.5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 3.0**2))
    return torch.from_numpy(images)[:, None], torch.from_numpy(labels), centres


def test_default_layer_of_resnet18_on_64_px_keeps_an_8x8_map() -> None:
    network = build_backbone("resnet18", 2, 1)
    images = torch.zeros(2, 1, 64, 64)
    assert resolution_layer(network, images) is network.layer2
    heatmaps, logits = GradCAM(network)(images)
    assert heatmaps.shape == (2, 8, 8) and logits.shape == (2, 2)


@pytest.mark.slow
def test_gradcam_of_a_briefly_trained_resnet18_peaks_on_the_blob() -> None:
    torch.manual_seed(0)
    images, labels, _ = _blob_images(256, seed=0)
    network = build_backbone("resnet18", 2, 1)
    optimizer = torch.optim.AdamW(network.parameters(), lr=2e-3)
    order = torch.Generator().manual_seed(0)
    network.train()
    for _ in range(3):
        for batch in torch.randperm(len(images), generator=order).split(32):
            loss = torch.nn.functional.cross_entropy(network(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    test_images, test_labels, centres = _blob_images(40, seed=1)
    network.eval()
    with torch.no_grad():
        assert (network(test_images).argmax(1) == test_labels).float().mean() >= 0.9
    lesion = torch.nonzero(test_labels == 1).flatten()
    heatmaps, _ = GradCAM(network)(test_images[lesion], torch.ones(len(lesion), dtype=torch.long))
    full = torch.nn.functional.interpolate(heatmaps[:, None], size=64, mode="bilinear", align_corners=False)
    peaks = full.flatten(1).argmax(1).numpy()
    distance = np.hypot(peaks // 64 - centres[lesion.numpy(), 0], peaks % 64 - centres[lesion.numpy(), 1])
    assert np.mean(distance <= 8) >= 0.8, distance
