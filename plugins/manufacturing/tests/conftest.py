"""Fixtures of the manufacturing tests: small C-MAPSS and MVTec AD folders written from generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lepton_manufacturing.defects.surfaces import generate_surfaces
from lepton_manufacturing.maintenance.fleet import generate_fleet


def write_cmapss_files(folder: Path, subset: str = "FD001", units: int = 8, test_units: int = 4, seed: int = 3) -> Path:
    """A generated fleet as C-MAPSS text files (space separated, no header): train_, test_ and RUL_."""
    fleet = generate_fleet(units, test_units, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    fleet.train.to_csv(folder / f"train_{subset}.txt", sep=" ", header=False, index=False)
    assert fleet.test is not None and fleet.test_rul is not None
    fleet.test.to_csv(folder / f"test_{subset}.txt", sep=" ", header=False, index=False)
    (folder / f"RUL_{subset}.txt").write_text("\n".join(str(int(v)) for v in fleet.test_rul) + "\n")
    return folder


def write_mvtec_folder(root: Path, n_train: int = 24, n_good: int = 8, n_defect: int = 8, size: int = 32) -> Path:
    """Generated surfaces in the MVTec AD layout, with ground-truth masks for the defects."""
    train, test = generate_surfaces(n_train, n_good, n_defect, size, seed=7)
    for index, image in enumerate(train.images):
        _save(root / "train" / "good" / f"{index:03d}.png", image.transpose(1, 2, 0))
    for index, (image, kind) in enumerate(zip(test.images, test.kinds)):
        _save(root / "test" / kind / f"{index:03d}.png", image.transpose(1, 2, 0))
        if kind != "good":
            assert test.masks is not None
            _save(root / "ground_truth" / kind / f"{index:03d}_mask.png", test.masks[index] * 255)
    return root


def _save(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels)).save(path)


@pytest.fixture
def cmapss_writer() -> object:
    """The function that writes C-MAPSS folders (for tests that need several or other sizes)."""
    return write_cmapss_files


@pytest.fixture
def mvtec_writer() -> object:
    """The function that writes MVTec AD folders of generated surfaces."""
    return write_mvtec_folder


@pytest.fixture
def cmapss_dir(tmp_path: Path) -> Path:
    """A C-MAPSS FD001 folder with 8 training and 4 test units."""
    return write_cmapss_files(tmp_path / "cmapss")


@pytest.fixture
def mvtec_dir(tmp_path: Path) -> Path:
    """An MVTec AD category of 32x32 generated surfaces (24 train, 8 good + 8 defective test images)."""
    return write_mvtec_folder(tmp_path / "surface")
