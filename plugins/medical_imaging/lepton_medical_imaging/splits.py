"""Train/val/test assignment: stratified by class, grouped by patient when a patient id is known."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lepton_core.errors import ConfigError, DataError

__all__ = ["SPLITS", "assign_splits", "check_patient_leak", "complete_given_splits"]

SPLITS = ("train", "val", "test")


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0 < val_fraction < 0.5 and 0 < test_fraction < 0.5 and val_fraction + test_fraction < 0.8):
        raise ConfigError(
            f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} leave too little to train on",
            "use fractions between 0 and 0.5 that sum to less than 0.8",
        )


def _carve(
    labels: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int, class_names: Sequence[str]
) -> np.ndarray:
    """A boolean mask of about ``fraction`` of the rows, stratified by label and (when given) grouped."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    counts = np.bincount(labels, minlength=len(class_names))
    rare = [class_names[k] for k, c in enumerate(counts) if 0 < c < 3]
    if rare:
        raise DataError(
            f"class(es) {', '.join(rare)} have fewer than 3 images: too few for train, val and test",
            "add images of those classes or remove their folders",
        )
    index = np.arange(len(labels))
    mask = np.zeros(len(labels), bool)
    if groups is None:
        _, held = train_test_split(index, test_size=fraction, stratify=labels, random_state=seed)
        mask[held] = True
        return mask
    n_splits = max(2, round(1.0 / fraction))
    if len(np.unique(groups)) < n_splits:
        raise DataError(
            f"only {len(np.unique(groups))} distinct patients: too few to keep patients apart across splits",
            "add patients, raise data.val_fraction and data.test_fraction, or unset data.patient_column",
        )
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, held = next(folds.split(index, labels, groups))
    mask[held] = True
    return mask


def assign_splits(
    labels: np.ndarray,
    patients: np.ndarray | None,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    class_names: Sequence[str],
) -> np.ndarray:
    """Split names ("train"/"val"/"test") per row: stratified, and grouped by ``patients`` when given."""
    _check_fractions(val_fraction, test_fraction)
    split = np.full(len(labels), "train", dtype=object)
    test = _carve(labels, patients, test_fraction, seed, class_names)
    split[test] = "test"
    rest = np.flatnonzero(~test)
    val = _carve(
        labels[rest],
        None if patients is None else patients[rest],
        val_fraction / (1 - test_fraction),
        seed + 1,
        class_names,
    )
    split[rest[val]] = "val"
    return split


def complete_given_splits(
    split: np.ndarray,
    labels: np.ndarray,
    patients: np.ndarray | None,
    val_fraction: float,
    seed: int,
    class_names: Sequence[str],
) -> np.ndarray:
    """Check the data's own split names; carve a validation split out of train when the data has none."""
    names = {str(s) for s in split}
    unknown = sorted(names - set(SPLITS))
    if unknown:
        raise DataError(
            f"unknown split name(s) {', '.join(unknown)}", "use train, val and test in the split column"
        )
    for needed in ("train", "test"):
        if needed not in names:
            raise DataError(
                f"the data's own splits have no '{needed}' rows",
                f"add {needed} rows or drop the split column",
            )
    split = split.astype(object).copy()
    if "val" not in names:
        rest = np.flatnonzero(split == "train")
        val = _carve(
            labels[rest], None if patients is None else patients[rest], val_fraction, seed + 1, class_names
        )
        split[rest[val]] = "val"
    return split


def check_patient_leak(split: np.ndarray, patients: np.ndarray | None) -> None:
    """Refuse splits in which one patient's images land in two splits."""
    if patients is None:
        return
    seen: dict[object, str] = {}
    for patient, name in zip(patients, split):
        first = seen.setdefault(patient, name)
        if first != name:
            raise DataError(
                f"patient '{patient}' has images in both the {first} and the {name} split",
                "put each patient in one split, or drop the split column so Lepton splits by patient",
            )
