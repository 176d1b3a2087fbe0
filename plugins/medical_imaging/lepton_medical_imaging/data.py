"""The medical image datamodule: load (demo, folder, DICOM + CSV, npz), validate, split, cache, batch."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from lepton_core.errors import ConfigError, DataError
from lepton_core.vision.batches import ImageBatchLoader
from lepton_core.vision.images import normalize_size
from lepton_medical_imaging.demo import DEMO_CLASSES, make_demo_scans
from lepton_medical_imaging.dicom import DicomOptions
from lepton_medical_imaging.loaders import (
    LoadedImages,
    load_folder,
    load_labelled_directory,
    load_npz,
    resolve_format,
)
from lepton_medical_imaging.splits import SPLITS, assign_splits, check_patient_leak, complete_given_splits

__all__ = ["MedicalImageDataModule", "build_augmentation", "png_base64"]

AUGMENT_KEYS = (
    "horizontal_flip",
    "vertical_flip",
    "rotation_degrees",
    "translate",
    "scale",
    "brightness",
    "contrast",
)


def build_augmentation(augment: Mapping[str, Any] | None) -> Any:
    """A torchvision v2 pipeline for uint8 ``(C, H, W)`` images from ``data.augment`` (None/empty: no augmentation).

    Keys: ``horizontal_flip``/``vertical_flip`` (probabilities), ``rotation_degrees``, ``translate`` (fraction),
    ``scale`` ([low, high]), ``brightness`` and ``contrast`` (jitter strengths).
    """
    from torchvision.transforms import v2

    options = dict(augment or {})
    unknown = sorted(set(options) - set(AUGMENT_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown data.augment key(s) {', '.join(unknown)}", f"use {', '.join(AUGMENT_KEYS)}"
        )
    steps: list[Any] = []
    if options.get("horizontal_flip"):
        steps.append(v2.RandomHorizontalFlip(float(options["horizontal_flip"])))
    if options.get("vertical_flip"):
        steps.append(v2.RandomVerticalFlip(float(options["vertical_flip"])))
    degrees, shift, scale = (
        options.get("rotation_degrees") or 0,
        options.get("translate") or 0,
        options.get("scale"),
    )
    if degrees or shift or scale:
        steps.append(
            v2.RandomAffine(
                degrees=float(degrees),
                translate=(float(shift), float(shift)) if shift else None,
                scale=tuple(float(s) for s in scale) if scale else None,
            )
        )
    if options.get("brightness") or options.get("contrast"):
        steps.append(
            v2.ColorJitter(brightness=options.get("brightness") or 0, contrast=options.get("contrast") or 0)
        )
    return v2.Compose(steps) if steps else None


def png_base64(image: np.ndarray) -> str:
    """A uint8 ``(C, H, W)`` image as base64 PNG bytes (the predictor's wire format)."""
    from PIL import Image

    pixels = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class MedicalImageDataModule(L.LightningDataModule):
    """Images and class labels from the demo generator, an image folder, a DICOM directory or an .npz file.

    Everything is decoded once into a uint8 ``(N, C, H, W)`` stack in memory; training batches are slices of
    it with per-image torchvision v2 augmentation. Splits are the data's own when it has them (folder
    ``train/val/test``, a CSV ``split`` column, npz keys), else stratified by class, and grouped by
    ``patient_column`` so that no patient is in two splits.
    """

    def __init__(
        self,
        path: str | None = None,
        format: str = "auto",
        labels_csv: str | None = None,
        file_column: str = "file",
        label_column: str = "label",
        patient_column: str | None = None,
        split_column: str | None = "split",
        class_names: Sequence[str] | None = None,
        size: int | Sequence[int] = 64,
        channels: int = 1,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        batch_size: int = 64,
        augment: Mapping[str, Any] | None = None,
        on_error: str = "raise",
        window_center: float | None = None,
        window_width: float | None = None,
        dicom_frame: str = "middle",
        demo_images: int = 1200,
        cache_dir: str | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ConfigError(f"data.channels={channels} is not supported", "use 1 (grayscale) or 3 (RGB)")
        if on_error not in ("raise", "skip"):
            raise ConfigError(f"data.on_error={on_error!r} is unknown", "use raise or skip")
        if int(batch_size) < 1:
            raise ConfigError(f"data.batch_size={batch_size} must be at least 1", "set a positive batch size")
        self.path = path
        self.format = format
        self.labels_csv = labels_csv
        self.file_column, self.label_column = file_column, label_column
        self.patient_column, self.split_column = patient_column, split_column
        self.class_names_override = tuple(class_names) if class_names else None
        self.size = normalize_size(size)  # type: ignore[arg-type]
        self.channels = int(channels)
        self.val_fraction, self.test_fraction = float(val_fraction), float(test_fraction)
        self.batch_size = int(batch_size)
        self.augment = dict(augment or {})
        self.transform = build_augmentation(self.augment)
        self.on_error = on_error
        self.dicom = DicomOptions(window_center, window_width, dicom_frame)  # type: ignore[arg-type]
        self.demo_images = int(demo_images)
        self.cache_dir = cache_dir
        self.seed = int(seed)
        self.loaded: LoadedImages | None = None
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.split_names: dict[str, tuple[str, ...]] = {}

    # ----------------------------------------------------------------------------------------- loading

    def _load(self) -> LoadedImages:
        assert self.size is not None
        if self.path is None:
            if self.demo_images < 30:
                raise ConfigError(
                    f"data.demo_images={self.demo_images} is too few", "use at least 30 demo images"
                )
            scans, labels = make_demo_scans(self.demo_images, self.size[0], self.seed)
            from lepton_core.vision.images import resize_stack

            images = resize_stack(scans[:, None], self.size, self.channels)
            return LoadedImages(images, labels, DEMO_CLASSES, "generated demo scans")
        path = Path(self.path).expanduser()
        fmt = resolve_format(path, self.format, self.labels_csv)
        if fmt == "npz":
            return load_npz(path, self.size, self.channels, self.class_names_override)
        if not path.is_dir():
            raise DataError(f"{path} is not a directory", f"data.format={fmt} needs a folder as data.path")
        if fmt == "folder":
            return load_folder(path, self.size, self.channels, self.on_error, self.dicom, self.cache_dir)  # type: ignore[arg-type]
        return load_labelled_directory(
            path,
            self.size,
            self.channels,
            self.labels_csv,
            self.file_column,
            self.label_column,
            self.patient_column,
            self.split_column,
            self.on_error,
            self.dicom,
            self.cache_dir,  # type: ignore[arg-type]
        )

    def _validate(self, data: LoadedImages) -> None:
        if len(data.labels) == 0:
            skipped = f" ({len(data.skipped)} file(s) skipped as unreadable)" if data.skipped else ""
            raise DataError(f"no usable images in {self.path}{skipped}", "point data.path at images")
        present = np.unique(data.labels)
        if len(present) < 2:
            raise DataError(
                f"only one class ({data.class_names[int(present[0])]}) in {self.path}: classification needs two or more",
                "add images of the other classes",
            )

    def setup(self, stage: str | None = None) -> None:
        """Load, validate and split once; later calls (fit, test) reuse the stacks."""
        if self.loaded is not None:
            return
        data = self._load()
        self._validate(data)
        if data.splits is not None:
            check_patient_leak(data.splits, data.patients)
            split = complete_given_splits(
                data.splits, data.labels, data.patients, self.val_fraction, self.seed, data.class_names
            )
        else:
            split = assign_splits(
                data.labels, data.patients, self.val_fraction, self.test_fraction, self.seed, data.class_names
            )
        check_patient_leak(split, data.patients)
        train_classes = set(np.unique(data.labels[split == "train"]).tolist())
        missing = [data.class_names[k] for k in np.unique(data.labels).tolist() if k not in train_classes]
        if missing:
            raise DataError(
                f"class(es) {', '.join(missing)} have no training images",
                "add training images of those classes",
            )
        self.loaded = data
        images = torch.from_numpy(data.images)
        labels = torch.from_numpy(data.labels)
        for name in SPLITS:
            rows = torch.from_numpy(np.flatnonzero(split == name))
            self.splits[name] = (images[rows].contiguous(), labels[rows].contiguous())
            if data.names is not None:
                self.split_names[name] = tuple(data.names[i] for i in rows.tolist())
        train = self.splits["train"][0].float().div_(255.0)
        self.mean = train.mean(dim=(0, 2, 3)).tolist()
        self.std = train.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()

    # ----------------------------------------------------------------------------------------- loaders

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in label order."""
        assert self.loaded is not None, "call setup() first"
        return self.loaded.class_names

    def _loader(self, split: str, train: bool = False) -> ImageBatchLoader:
        images, labels = self.splits[split]
        return ImageBatchLoader(
            images,
            labels,
            batch_size=self.batch_size if train else max(self.batch_size, 256),
            shuffle=train,
            drop_last=train and len(labels) > self.batch_size,
            seed=self.seed,
            transform=self.transform if train else None,
            mean=self.mean,
            std=self.std,
        )

    def train_dataloader(self) -> ImageBatchLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> ImageBatchLoader:
        return self._loader("val")

    def test_dataloader(self) -> ImageBatchLoader:
        return self._loader("test")

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``(N, C, H, W)`` -> the float input the model was trained on."""
        from lepton_core.vision.batches import normalize_batch

        return normalize_batch(images, self.mean, self.std)

    # ----------------------------------------------------------------------------------------- contract extras

    def model_kwargs(self) -> dict[str, int]:
        """Sizes the model takes from the data."""
        return {"num_classes": len(self.class_names), "in_channels": self.channels}

    def summary(self) -> dict[str, Any]:
        """Source, split sizes, class counts and skipped files, for the report."""
        assert self.loaded is not None
        summary: dict[str, Any] = {
            "source": self.loaded.source,
            "image size": f"{self.size[0]}x{self.size[1]}x{self.channels}",
        }
        for name in SPLITS:
            counts = np.bincount(self.splits[name][1].numpy(), minlength=len(self.class_names))
            summary[f"{name} images"] = int(counts.sum())
            summary[f"{name} per class"] = ", ".join(
                f"{c}: {n}" for c, n in zip(self.class_names, counts.tolist())
            )
        if self.loaded.patients is not None:
            summary["patients"] = len(set(self.loaded.patients.tolist()))
        summary["skipped files"] = len(self.loaded.skipped)
        if self.loaded.skipped:
            summary["first skipped"] = "; ".join(reason for _, reason in self.loaded.skipped[:3])
        return summary

    def export_state(self) -> dict[str, Any]:
        """What the predictor needs to prepare an image exactly as in training."""
        return {
            "class_names": list(self.class_names),
            "size": list(self.size or ()),
            "channels": self.channels,
            "mean": list(self.mean),
            "std": list(self.std),
            "dicom": {
                "window_center": self.dicom.window_center,
                "window_width": self.dicom.window_width,
                "frame": self.dicom.frame,
            },
        }

    def input_example(self) -> list[dict[str, Any]]:
        """Two made-up images of the model's input size as base64 PNG items (never a scan of the data); the
        second asks for a Grad-CAM heatmap."""
        from lepton_core.vision.images import synthetic_image

        channels, height, width = self.splits["test"][0].shape[1:]
        images = [synthetic_image(int(channels), int(height), int(width), variant) for variant in range(2)]
        return [{"image": png_base64(image), "gradcam": index == 1} for index, image in enumerate(images)]
