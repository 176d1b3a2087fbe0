"""Loading, validating and splitting: image folders, DICOM + labels CSV, npz; every bad input named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from lepton_medical_imaging.data import MedicalImageDataModule, build_augmentation
from lepton_medical_imaging.demo import write_demo_dicom
from lepton_medical_imaging.dicom import write_dicom

from lepton_core.errors import ConfigError, DataError


def _setup(**kwargs: object) -> MedicalImageDataModule:
    module = MedicalImageDataModule(size=16, augment=None, **kwargs)  # type: ignore[arg-type]
    module.setup("fit")
    return module


def test_demo_is_deterministic_and_stratified() -> None:
    first, second = _setup(demo_images=100, seed=1), _setup(demo_images=100, seed=1)
    assert first.class_names == ("normal", "lesion")
    for split in ("train", "val", "test"):
        assert first.splits[split][0].dtype.is_floating_point is False
        assert (first.splits[split][0] == second.splits[split][0]).all()
    assert sum(len(first.splits[s][1]) for s in ("train", "val", "test")) == 100
    assert set(first.splits["test"][1].tolist()) == {0, 1}


def test_image_folder_multiclass_rgb(image_folder: Path) -> None:
    module = _setup(path=str(image_folder), channels=3)
    assert module.class_names == ("a", "b", "c")
    images, _ = module.splits["train"]
    assert images.shape[1:] == (3, 16, 16)
    assert module.model_kwargs() == {"num_classes": 3, "in_channels": 3}
    batch, targets = next(iter(module.train_dataloader()))
    assert batch.dtype.is_floating_point and batch.shape[1:] == (3, 16, 16) and len(targets) == len(batch)


def test_image_folder_with_its_own_splits(tmp_path: Path, folder_writer: Callable[..., Path]) -> None:
    for split, count in (("train", 10), ("test", 4)):
        folder_writer(tmp_path / "data" / split, {"x": count, "y": count}, seed=len(split))
    module = _setup(path=str(tmp_path / "data"))
    assert len(module.splits["test"][1]) == 8
    assert len(module.splits["train"][1]) + len(module.splits["val"][1]) == 20
    assert all(name.startswith("test/") for name in module.split_names["test"])


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no class subfolders"):
        _setup(path=str(tmp_path / "empty"))
    (tmp_path / "empty" / "a").mkdir()
    with pytest.raises(DataError, match="class folder\\(s\\) a .* hold no files"):
        _setup(path=str(tmp_path / "empty"))


def test_one_class_only(tmp_path: Path, folder_writer: Callable[..., Path]) -> None:
    folder_writer(tmp_path / "one", {"only": 10})
    with pytest.raises(DataError, match="only one class \\(only\\)"):
        _setup(path=str(tmp_path / "one"))


def test_non_image_file_raises_or_is_skipped(image_folder: Path) -> None:
    (image_folder / "b" / "notes.txt").write_text("radiologist notes")
    with pytest.raises(DataError, match="notes.txt is not an image"):
        _setup(path=str(image_folder))
    module = _setup(path=str(image_folder), on_error="skip")
    assert module.summary()["skipped files"] == 1
    assert sum(len(module.splits[s][1]) for s in ("train", "val", "test")) == 36


def test_too_few_images_per_class(tmp_path: Path, folder_writer: Callable[..., Path]) -> None:
    folder_writer(tmp_path / "few", {"a": 10, "b": 2})
    with pytest.raises(DataError, match="class\\(es\\) b have fewer than 3 images"):
        _setup(path=str(tmp_path / "few"))


def test_missing_path_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data path not found"):
        _setup(path=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="channels"):
        MedicalImageDataModule(channels=2)
    with pytest.raises(ConfigError, match="on_error"):
        MedicalImageDataModule(on_error="ignore")
    with pytest.raises(ConfigError, match="unknown data.augment"):
        build_augmentation({"cutmix": 1.0})
    assert build_augmentation(None) is None


def test_dicom_directory_with_patients(tmp_path: Path) -> None:
    root = write_demo_dicom(tmp_path / "dicom", n_images=60, size=24, seed=2, per_patient=3)
    module = _setup(path=str(root), patient_column="patient_id")
    assert module.summary()["patients"] == 20
    import pandas as pd

    table = pd.read_csv(root / "labels.csv").set_index("file")
    owners = {
        s: {table.loc[n, "patient_id"] for n in module.split_names[s]} for s in ("train", "val", "test")
    }
    assert (
        not (owners["train"] & owners["test"])
        and not (owners["train"] & owners["val"])
        and not (owners["val"] & owners["test"])
    )


def test_labels_csv_rows_naming_missing_files(tmp_path: Path) -> None:
    root = write_demo_dicom(tmp_path / "dicom", n_images=40, size=16, seed=1)
    with (root / "labels.csv").open("a") as handle:
        handle.write("ghost_1.dcm,lesion,P9\nghost_2.dcm,normal,P9\n")
    with pytest.raises(
        DataError, match="2 row\\(s\\) name files that do not exist .*ghost_1.dcm, ghost_2.dcm"
    ):
        _setup(path=str(root))
    module = _setup(path=str(root), on_error="skip")
    assert module.summary()["skipped files"] == 2


def test_dicom_without_pixels_in_a_directory(tmp_path: Path) -> None:
    root = write_demo_dicom(tmp_path / "dicom", n_images=40, size=16, seed=1)
    (root / "scan_00003.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00")
    with pytest.raises(DataError, match="scan_00003.dcm"):
        _setup(path=str(root))
    assert _setup(path=str(root), on_error="skip").summary()["skipped files"] == 1


def test_labels_csv_problems(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    write_dicom(root / "a.dcm", np.zeros((4, 4), np.uint16))
    (root / "labels.csv").write_text("path,diagnosis\na.dcm,x\n")
    with pytest.raises(DataError, match="lacks column\\(s\\) file, label \\(it has path, diagnosis\\)"):
        _setup(path=str(root))
    (root / "labels.csv").write_text("file,label\n")
    with pytest.raises(DataError, match="has no rows"):
        _setup(path=str(root))
    (root / "labels.csv").write_text("file,label\na.dcm,\n")
    with pytest.raises(DataError, match="lack a file or a label"):
        _setup(path=str(root))


def test_given_splits_must_keep_patients_apart(tmp_path: Path) -> None:
    root = write_demo_dicom(tmp_path / "dicom", n_images=30, size=16, seed=1, per_patient=30)
    lines = (root / "labels.csv").read_text().splitlines()
    rows = [f"{line},{'test' if i % 3 == 0 else 'train'}" for i, line in enumerate(lines[1:])]
    (root / "labels.csv").write_text("\n".join([lines[0] + ",split", *rows]) + "\n")
    with pytest.raises(DataError, match="patient 'P0000' has images in both"):
        _setup(path=str(root), patient_column="patient_id")
    module = _setup(path=str(root))
    assert len(module.splits["test"][1]) == 10


def test_npz_with_its_own_splits(tmp_path: Path, demo_arrays: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = demo_arrays
    np.savez(
        tmp_path / "scans.npz",
        train_images=images[:50],
        train_labels=labels[:50, None],
        val_images=images[50:60],
        val_labels=labels[50:60, None],
        test_images=images[60:],
        test_labels=labels[60:, None],
    )
    module = _setup(path=str(tmp_path / "scans.npz"), class_names=["normal", "lesion"])
    assert [len(module.splits[s][1]) for s in ("train", "val", "test")] == [50, 10, 20]
    assert module.class_names == ("normal", "lesion")


def test_npz_problems(tmp_path: Path, demo_arrays: tuple[np.ndarray, np.ndarray]) -> None:
    images, _ = demo_arrays
    np.savez(tmp_path / "keys.npz", x=images)
    with pytest.raises(DataError, match="has keys x; expected train_images"):
        _setup(path=str(tmp_path / "keys.npz"))
    np.savez(tmp_path / "multi.npz", images=images, labels=np.zeros((len(images), 3), np.int64))
    with pytest.raises(DataError, match="multi-label targets are not supported"):
        _setup(path=str(tmp_path / "multi.npz"))
    np.savez(tmp_path / "volumes.npz", images=np.zeros((4, 8, 8, 8), np.uint8), labels=np.zeros(4, np.int64))
    with pytest.raises(DataError, match="3-D volumes are not supported"):
        _setup(path=str(tmp_path / "volumes.npz"))
    (tmp_path / "fake.npz").write_text("nope")
    with pytest.raises(DataError, match="not a readable .npz"):
        _setup(path=str(tmp_path / "fake.npz"))


def test_decoded_stack_cache_is_reused(image_folder: Path, tmp_path: Path) -> None:
    first = _setup(path=str(image_folder), cache_dir=str(tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    second = _setup(path=str(image_folder), cache_dir=str(tmp_path / "cache"))
    assert (first.splits["test"][0] == second.splits["test"][0]).all()
