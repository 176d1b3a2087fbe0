"""Where Grad-CAM points, layer by layer: ResNet-18 (the medical default) on 64x64 images whose class is a blob.

Trains a ResNet-18 from scratch on generated images (noise and two small distractor dots; class 1 adds one
bright blob at a random position), then, for the test images with a blob, compares the argmax of the
Grad-CAM heatmap of each ResNet stage (upsampled to 64x64) with the blob's centre. The reference is
``layer4`` (the last convolution, a 2x2 map); ``auto`` is the layer ``GradCAM`` picks by default.

    python benchmarks/medical_gradcam.py             # 400 training images, 4 epochs
    python benchmarks/medical_gradcam.py --quick     # 256 images, 3 epochs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from lepton_medical_imaging.models import build_backbone

from lepton_core.vision.gradcam import GradCAM, resolution_layer


def blob_images(count: int, seed: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Noisy images with two distractor dots; odd ones carry a bright blob centred at ``centres``."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 images, 3 epochs")
    args = parser.parse_args()
    count, epochs = (256, 3) if args.quick else (400, 4)
    torch.manual_seed(0)
    images, labels, _ = blob_images(count, seed=0)
    test_images, test_labels, centres = blob_images(64, seed=1)
    network = build_backbone("resnet18", 2, 1)
    optimizer = torch.optim.AdamW(network.parameters(), lr=2e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        network.train()
        for batch in torch.randperm(len(images)).split(32):
            loss = torch.nn.functional.cross_entropy(network(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    network.eval()
    with torch.no_grad():
        accuracy = (network(test_images).argmax(1) == test_labels).float().mean().item()
    print(f"ResNet-18, {count} images x {epochs} epochs ({time.perf_counter() - start:.0f} s): test accuracy {accuracy:.3f}")
    lesion = torch.nonzero(test_labels == 1).flatten()
    auto = resolution_layer(network, test_images)
    layers = {name: getattr(network, name) for name in ("layer4", "layer3", "layer2", "layer1")}
    layers["auto (" + next(n for n, m in network.named_modules() if m is auto) + ")"] = auto
    print(f"{'layer':16s}{'map':>8s}{'peak within 8 px':>18s}{'median distance':>17s}{'vs layer4':>11s}")
    reference = None
    for name, layer in layers.items():
        heatmaps, _ = GradCAM(network, layer)(test_images[lesion], torch.ones(len(lesion), dtype=torch.long))
        full = torch.nn.functional.interpolate(heatmaps[:, None], size=64, mode="bilinear", align_corners=False)
        peaks = full.flatten(1).argmax(1).numpy()
        distance = np.hypot(peaks // 64 - centres[lesion.numpy(), 0], peaks % 64 - centres[lesion.numpy(), 1])
        hit = float(np.mean(distance <= 8))
        reference = hit if reference is None else reference
        shape = "x".join(map(str, heatmaps.shape[1:]))
        print(f"{name:16s}{shape:>8s}{hit:>18.2f}{np.median(distance):>15.1f}px{hit / max(reference, 1e-9):>10.1f}x")


if __name__ == "__main__":
    main()
