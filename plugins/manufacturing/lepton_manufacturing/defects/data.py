"""Images of parts for unsupervised defect detection: train on normals, pick the threshold, test on both."""

from __future__ import annotations

import base64
import io
from typing import Any

import lightning as L
import numpy as np
import torch

from lepton_core import ConfigError, DataError
from lepton_core.vision.batches import ImageBatchLoader
from lepton_manufacturing.defects.surfaces import ImageSet, generate_surfaces, read_parts

__all__ = ["DefectDataModule", "encode_png"]


def encode_png(image: np.ndarray) -> str:
    """A uint8 (C, H, W) image as base64 PNG (lossless: decoding gives the same pixels back)."""
    from PIL import Image

    pixels = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _stratified_take(labels: list[str], fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``fraction`` of the items of each kind (at least one of a kind that has two or more)."""
    picked: list[int] = []
    for kind in sorted(set(labels)):
        members = np.flatnonzero(np.asarray(labels) == kind)
        count = int(round(fraction * len(members)))
        if fraction > 0 and len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        picked += rng.permutation(members)[:count].tolist()
    return np.sort(np.asarray(picked, dtype=np.int64))


class DefectDataModule(L.LightningDataModule):
    """Normal images to train on (``train``), normal images for the validation loss (``val``), a labelled
    calibration set for the threshold (``calibration``: held-out normals plus a share of labelled images)
    and the labelled ``test`` set.

    Pixels are scaled to 0..1; every image is resized to ``image_size`` (``image_size: null`` keeps the
    native size, which must then be the same for every image).
    """

    def __init__(
        self,
        path: str | None = None,
        layout: str = "auto",
        normal_dir: str = "normal",
        abnormal_dir: str = "abnormal",
        image_size: int | None = 64,
        channels: int = 3,
        val_fraction: float = 0.2,
        calibration_fraction: float = 0.3,
        test_normal_fraction: float = 0.3,
        n_train: int = 240,
        n_test_good: int = 80,
        n_test_defect: int = 80,
        defect_strength: float = 1.0,
        batch_size: int = 32,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ConfigError(f"data.channels={channels} is not supported", "use 1 (grayscale) or 3 (RGB)")
        if not 0.0 <= calibration_fraction < 1.0:
            raise ConfigError(f"data.calibration_fraction={calibration_fraction} is outside [0, 1)", "use e.g. 0.3")
        self.path, self.layout = path, layout
        self.normal_dir, self.abnormal_dir = normal_dir, abnormal_dir
        self.image_size, self.channels = image_size, channels
        self.val_fraction, self.calibration_fraction = val_fraction, calibration_fraction
        self.test_normal_fraction = test_normal_fraction
        self.n_train, self.n_test_good, self.n_test_defect = n_train, n_test_good, n_test_defect
        self.defect_strength = defect_strength
        self.batch_size, self.seed = batch_size, seed
        self.sets: dict[str, ImageSet] = {}

    def setup(self, stage: str | None = None) -> None:
        """Read or generate the images and split them."""
        if self.sets:
            return
        rng = np.random.default_rng(self.seed)
        if self.path is None:
            normals, labelled = generate_surfaces(
                self.n_train, self.n_test_good, self.n_test_defect, self.image_size or 64, self.seed, self.defect_strength
            )
            self.source = "generated brushed-metal surfaces"
        else:
            normals, labelled, used = read_parts(
                self.path, self.layout, self.normal_dir, self.abnormal_dir, self.image_size, self.channels
            )
            self.source = f"{used} layout at {self.path}"
            if used == "folders":
                held = _stratified_take(normals.kinds, self.test_normal_fraction, rng)
                rest = np.setdiff1d(np.arange(len(normals)), held)
                labelled = ImageSet.join(normals.take(held), labelled)
                normals = normals.take(rest)
        if self.channels == 1 and normals.images.shape[1] == 3:
            normals, labelled = self._gray(normals), self._gray(labelled)
        order = rng.permutation(len(normals))
        n_val = max(1, int(round(self.val_fraction * len(normals))))
        if len(normals) - n_val < 2:
            raise DataError(f"only {len(normals)} normal training image(s)", "provide at least a few dozen normal images")
        self.sets["train"], self.sets["val"] = normals.take(np.sort(order[n_val:])), normals.take(np.sort(order[:n_val]))
        moved = _stratified_take(labelled.kinds, self.calibration_fraction, rng)
        kept = np.setdiff1d(np.arange(len(labelled)), moved)
        val_as_labelled = ImageSet(self.sets["val"].images, self.sets["val"].labels, self.sets["val"].kinds, self.sets["val"].names,
                                   None if labelled.masks is None else np.zeros((n_val, *labelled.masks.shape[1:]), np.uint8),
                                   None if labelled.masks is None else np.ones(n_val, bool))
        self.sets["calibration"] = ImageSet.join(val_as_labelled, labelled.take(moved))
        self.sets["test"] = labelled.take(kept)
        if self.sets["test"].labels.min() == self.sets["test"].labels.max():
            raise DataError("the test split holds a single class", "provide both good and defective labelled images")
        self.image_shape = tuple(int(s) for s in self.sets["train"].images.shape[1:])

    def _gray(self, images: ImageSet) -> ImageSet:
        from lepton_core.vision.images import resize_stack

        images.images = resize_stack(images.images, images.images.shape[2:], 1)
        return images

    def float_images(self, split: str) -> torch.Tensor:
        """A split's images as float32 (N, C, H, W) in 0..1 (what the models and baselines take)."""
        return torch.from_numpy(self.sets[split].images).float().div_(255.0)

    def _loader(self, split: str, shuffle: bool) -> ImageBatchLoader:
        images = torch.from_numpy(self.sets[split].images)
        size = self.batch_size if shuffle else 128
        return ImageBatchLoader(images, batch_size=size, shuffle=shuffle, seed=self.seed, mean=(0.0,), std=(1.0,))

    def train_dataloader(self) -> Any:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> Any:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> Any:
        return self._loader("test", shuffle=False)

    def model_kwargs(self) -> dict[str, Any]:
        """Channels and image side from the data."""
        channels, height, width = self.image_shape
        if height != width:
            raise DataError(f"images are {width}x{height}, the autoencoder needs square images", "set data.image_size")
        return {"channels": channels, "image_size": height}

    def summary(self) -> dict[str, Any]:
        """Image counts per split and defect kind, for the report."""
        test = self.sets["test"]
        kinds = {k: test.kinds.count(k) for k in sorted(set(test.kinds))}
        return {
            "source": self.source,
            "image shape": "x".join(map(str, self.image_shape)),
            "train normals": len(self.sets["train"]),
            "val normals": len(self.sets["val"]),
            "calibration images (normal/defect)": f"{int((self.sets['calibration'].labels == 0).sum())}/{int(self.sets['calibration'].labels.sum())}",
            "test images by kind": ", ".join(f"{k} {n}" for k, n in kinds.items()),
            "pixel masks": "yes" if test.masks is not None else "no",
        }

    def export_state(self) -> dict[str, Any]:
        """What the predictor needs to prepare an image like the training data."""
        channels, height, width = self.image_shape
        return {"channels": channels, "height": height, "width": width}

    def input_example(self) -> list[dict[str, str]]:
        """Two made-up images of the training image size, as base64 PNG (never a photo of the data)."""
        from lepton_core.vision.images import synthetic_image

        channels, height, width = self.sets["test"].images.shape[1:]
        return [{"image": encode_png(synthetic_image(channels, height, width, variant))} for variant in range(2)]
