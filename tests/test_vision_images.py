"""lepton_core.vision: decoding, stacks, the decoded-stack cache, batches, Grad-CAM and overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lepton_core.errors import ConfigError, DataError
from lepton_core.vision.batches import ImageBatchLoader
from lepton_core.vision.gradcam import GradCAM
from lepton_core.vision.images import ImageStackCache, decode_image, decode_stack, fit_array
from lepton_core.vision.overlay import overlay_grid


def _png(path: Path, shape: tuple[int, ...], seed: int = 0) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_decode_image_channels_size_and_bytes(tmp_path: Path) -> None:
    path = _png(tmp_path / "a.png", (20, 30, 3))
    assert decode_image(path, 16, channels=1).shape == (16, 16, 1)
    assert decode_image(path.read_bytes(), (8, 12), channels=3).shape == (8, 12, 3)
    assert decode_image(path, None, channels=3).shape == (20, 30, 3)
    gray = _png(tmp_path / "g.png", (10, 10))
    rgb = decode_image(gray, None, channels=3)
    assert (rgb[:, :, 0] == rgb[:, :, 2]).all()


def test_decode_image_16bit_is_scaled(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 1000], [2000, 4000]], np.uint16)).save(tmp_path / "deep.png")
    pixels = decode_image(tmp_path / "deep.png", None, channels=1)[:, :, 0]
    assert pixels.dtype == np.uint8 and pixels.min() == 0 and pixels.max() == 255


def test_decode_image_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DataError, match="notes.png is not an image"):
        decode_image(tmp_path / "notes.png", 8)
    with pytest.raises(DataError, match="not found"):
        decode_image(tmp_path / "missing.png", 8)
    truncated = _png(tmp_path / "cut.png", (64, 64, 3)).read_bytes()[:200]
    with pytest.raises(DataError, match="scan.png"):
        decode_image(truncated, 8, name="scan.png")
    with pytest.raises(ConfigError):
        fit_array(np.zeros((4, 4)), 4, channels=2)


def test_decode_stack_raise_or_skip(tmp_path: Path) -> None:
    paths = [_png(tmp_path / f"{i}.png", (12, 12, 3), i) for i in range(20)]
    (tmp_path / "bad.png").write_bytes(b"\x00" * 10)
    sources = [*paths[:5], tmp_path / "bad.png", *paths[5:]]
    with pytest.raises(DataError, match="bad.png"):
        decode_stack(sources, 8, channels=1)
    stack = decode_stack(sources, 8, channels=1, on_error="skip")
    assert stack.images.shape == (20, 1, 8, 8)
    assert 5 not in stack.kept.tolist() and len(stack.skipped) == 1
    assert stack.tensor().dtype == torch.uint8


def test_stack_cache_round_trip(tmp_path: Path) -> None:
    paths = [_png(tmp_path / f"{i}.png", (12, 12, 3), i) for i in range(3)]
    cache = ImageStackCache(tmp_path / "cache")
    first = cache.decode(paths, 8, 3)
    assert cache.load(cache.key(paths, 8, 3)) is not None
    np.testing.assert_array_equal(first.images, cache.decode(paths, 8, 3).images)
    assert cache.key(paths, 8, 3) != cache.key(paths, 8, 1)


def test_image_batch_loader_normalises_and_augments() -> None:
    images = torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(10)
    plain = list(ImageBatchLoader(images, labels, batch_size=4, mean=(0.0,), std=(1.0,)))
    assert [b[0].shape[0] for b in plain] == [4, 4, 2]
    torch.testing.assert_close(plain[0][0], images[:4].float() / 255)
    flipped = list(
        ImageBatchLoader(
            images, labels, batch_size=10, transform=lambda x: x.flip(-1), mean=(0.0,), std=(1.0,)
        )
    )
    torch.testing.assert_close(flipped[0][0], images.flip(-1).float() / 255)


def test_gradcam_highlights_the_informative_region() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 1, 1, bias=False), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    torch.nn.init.constant_(model[0].weight, 1.0)
    images = torch.zeros(1, 1, 6, 6)
    images[0, 0, 1, 4] = 5.0
    heatmaps, logits = GradCAM(model)(images, torch.tensor([1]))
    assert heatmaps.shape == (1, 6, 6) and logits.shape == (1, 2)
    assert heatmaps[0].argmax().item() == 1 * 6 + 4


def test_overlay_grid_writes_png(tmp_path: Path) -> None:
    images = [np.zeros((16, 16), np.uint8), torch.rand(3, 16, 16)]
    figure = overlay_grid(tmp_path, "cams", images, [np.eye(4), None], ["a", "b"], "Overlays")
    assert figure.path.is_file() and figure.path.stat().st_size > 0


def test_image_batch_loader_augmentation_is_seeded_per_epoch() -> None:
    from torchvision.transforms import v2

    images = torch.randint(0, 256, (6, 1, 8, 8), dtype=torch.uint8)
    flip = v2.RandomHorizontalFlip(0.5)
    loader = ImageBatchLoader(images, batch_size=6, transform=flip, seed=3)
    global_state = torch.get_rng_state()
    first = next(iter(loader))[0]
    assert torch.equal(torch.get_rng_state(), global_state)
    torch.testing.assert_close(next(iter(loader))[0], first)
    loader.set_epoch(1)
    again = [next(iter(loader))[0] for _ in range(2)]
    torch.testing.assert_close(again[0], again[1])


def test_a_one_pixel_heatmap_resizes_to_the_image() -> None:
    from lepton_core.vision.overlay import resize_heatmap

    resized = resize_heatmap(np.ones((1, 1, 1), dtype=np.float32), (8, 6))
    assert resized.shape == (8, 6)
