"""The embedded demo data: synthetic grayscale scans, with or without a lesion, generated deterministically.

Each scan is a dark field with an elliptical body of smooth, textured tissue, two darker organ regions and
small bright vessel dots. A "lesion" scan also carries one round bright blob somewhere inside the body, of
random size and contrast. The lesion's position varies, so a model must detect a local pattern anywhere in
the image: a convolutional network can, a logistic regression on pixels mostly cannot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DEMO_CLASSES", "make_demo_scans", "write_demo_dicom", "write_demo_folder"]

DEMO_CLASSES = ("normal", "lesion")


def _blob(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, radius: float) -> np.ndarray:
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))


def _scan(rng: np.random.Generator, size: int, lesion: bool) -> np.ndarray:
    axis = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    cx, cy = rng.uniform(-0.08, 0.08, 2)
    ax_x, ax_y = rng.uniform(0.65, 0.88), rng.uniform(0.55, 0.8)
    body = (((xx - cx) / ax_x) ** 2 + ((yy - cy) / ax_y) ** 2) <= 1.0
    image = np.full((size, size), 18.0, np.float32)
    texture = sum(
        rng.uniform(4, 9)
        * np.sin(rng.uniform(2, 7) * xx + rng.uniform(0, 6.3))
        * np.cos(rng.uniform(2, 7) * yy)
        for _ in range(3)
    )
    image[body] = rng.uniform(95, 125) + texture[body]
    for side in (-1, 1):
        organ = (
            ((xx - cx - side * 0.33 * ax_x) / (0.28 * ax_x)) ** 2 + ((yy - cy) / (0.55 * ax_y)) ** 2
        ) <= 1.0
        image[organ & body] -= rng.uniform(25, 45)
    inside = np.argwhere(body)
    for _ in range(rng.integers(2, 6)):
        py, px = inside[rng.integers(len(inside))]
        image += rng.uniform(15, 35) * _blob(xx, yy, axis[px], axis[py], rng.uniform(0.02, 0.035))
    if lesion:
        py, px = inside[rng.integers(len(inside))]
        image += rng.uniform(45, 80) * _blob(xx, yy, axis[px], axis[py], rng.uniform(0.06, 0.12))
    image += rng.normal(0.0, 9.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_demo_scans(
    n_images: int, size: int = 64, seed: int = 0, lesion_share: float = 0.45
) -> tuple[np.ndarray, np.ndarray]:
    """``n_images`` scans as uint8 ``(N, size, size)`` and labels (0 normal, 1 lesion); same seed, same data."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n_images) < lesion_share).astype(np.int64)
    images = (
        np.stack([_scan(rng, size, bool(label)) for label in labels])
        if n_images
        else np.empty((0, size, size), np.uint8)
    )
    return images, labels


def write_demo_folder(folder: str | Path, n_images: int = 200, size: int = 64, seed: int = 0) -> Path:
    """Write demo scans as an image folder (``<folder>/<class>/<i>.png``), for trying the folder loader."""
    from PIL import Image

    root = Path(folder)
    images, labels = make_demo_scans(n_images, size, seed)
    for index, (image, label) in enumerate(zip(images, labels)):
        target = root / DEMO_CLASSES[label]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"scan_{index:05d}.png")
    return root


def write_demo_dicom(
    folder: str | Path, n_images: int = 200, size: int = 64, seed: int = 0, per_patient: int = 4
) -> Path:
    """Write demo scans as CT-like DICOM files (Hounsfield units via slope/intercept) plus ``labels.csv``.

    The CSV has columns ``file``, ``label`` and ``patient_id`` (``per_patient`` scans per patient, one class
    per patient), for trying the DICOM loader with patient-grouped splits.
    """
    import csv

    from lepton_medical_imaging.dicom import write_dicom

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    images, labels = make_demo_scans(n_images, size, seed)
    order = np.argsort(labels, kind="stable")
    with (root / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "patient_id"])
        for rank, index in enumerate(order):
            name = f"scan_{index:05d}.dcm"
            stored = (images[index].astype(np.int32) * 8).astype(np.uint16)  # HU = 0.5 * stored - 1000
            write_dicom(
                root / name,
                stored,
                rescale_slope=0.5,
                rescale_intercept=-1000,
                window=(-490, 1020),
                patient_id=f"P{rank // per_patient:04d}",
                modality="CT",
            )
            writer.writerow([name, DEMO_CLASSES[labels[index]], f"P{rank // per_patient:04d}"])
    return root
