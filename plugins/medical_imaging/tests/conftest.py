"""Fixtures of the medical imaging tests: tiny image folders, DICOM directories and npz files, all generated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from lepton_medical_imaging.demo import make_demo_scans
from PIL import Image


def write_folder(root: Path, classes: dict[str, int], size: int = 24, seed: int = 0) -> Path:
    """``root/<class>/<i>.png`` with ``count`` images per class; class k is brighter with k."""
    rng = np.random.default_rng(seed)
    for index, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = np.clip(rng.normal(60 + 60 * index, 20, (size, size)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture
def folder_writer() -> Callable[..., Path]:
    """The ``write_folder`` function, for tests that need their own class layout."""
    return write_folder


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Three classes of 12 grayscale PNGs each."""
    return write_folder(tmp_path / "folder", {"a": 12, "b": 12, "c": 12})


@pytest.fixture
def demo_arrays() -> tuple[np.ndarray, np.ndarray]:
    """80 demo scans at 32 px and their labels."""
    return make_demo_scans(80, 32, seed=3)
