"""The three data formats, each read into one in-memory uint8 stack with labels (and patients, splits).

- image folder: ``<path>/<class>/<file>`` (PNG, JPEG, DICOM... one subfolder per class), or the same under
  ``<path>/train``, ``<path>/val`` (optional) and ``<path>/test`` to keep the data's own splits;
- labelled directory: files anywhere under ``<path>`` (DICOM or images) listed in a labels CSV with a file
  column, a label column, and optionally patient id and split columns;
- MedMNIST-style ``.npz``: ``train_images``/``train_labels``, ``val_*``, ``test_*`` (or ``images``/``labels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np

from lepton_core.errors import ConfigError, DataError
from lepton_core.vision.images import DecodedStack, ImageStackCache, decode_stack, resize_stack
from lepton_medical_imaging.dicom import DicomOptions, decode_any

__all__ = ["LoadedImages", "load_folder", "load_labelled_directory", "load_npz", "resolve_format"]

OnError = Literal["raise", "skip"]
Format = Literal["folder", "dicom", "npz"]


@dataclass(frozen=True)
class LoadedImages:
    """A decoded data set: uint8 ``images (N, C, H, W)``, integer ``labels``, and what else the source knew."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    source: str
    names: tuple[str, ...] | None = None
    patients: np.ndarray | None = None
    splits: np.ndarray | None = None
    skipped: tuple[tuple[str, str], ...] = ()


def resolve_format(path: Path, fmt: str, labels_csv: str | None) -> Format:
    """``auto`` -> ``npz`` for a .npz file, ``dicom`` for a directory with a labels CSV, else ``folder``."""
    if fmt not in ("auto", "folder", "dicom", "npz"):
        raise ConfigError(f"data.format={fmt!r} is unknown", "use auto, folder, dicom or npz")
    if not path.exists():
        raise DataError(f"data path not found: {path}", "check data.path")
    if fmt != "auto":
        return fmt  # type: ignore[return-value]
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return "npz"
        raise DataError(
            f"{path} is a file, not an image folder or a .npz file", "point data.path at a folder or a .npz"
        )
    csv = Path(labels_csv) if labels_csv else path / "labels.csv"
    return "dicom" if csv.is_file() else "folder"


def _visible(path: Path) -> bool:
    return not path.name.startswith((".", "_"))


def _decode(
    files: Sequence[Path],
    size: int | tuple[int, int],
    channels: int,
    on_error: OnError,
    options: DicomOptions,
    cache_dir: str | None,
) -> DecodedStack:
    decoder = partial(decode_any, options=options)
    if cache_dir:
        return ImageStackCache(cache_dir).decode(files, size, channels, on_error, decoder, extra=options)
    return decode_stack(files, size, channels, on_error, decoder)


def _class_files(root: Path) -> dict[str, list[Path]]:
    classes = sorted(p for p in root.iterdir() if p.is_dir() and _visible(p))
    found = {c.name: sorted(f for f in c.rglob("*") if f.is_file() and _visible(f)) for c in classes}
    empty = [name for name, files in found.items() if not files]
    if empty:
        raise DataError(
            f"class folder(s) {', '.join(empty)} in {root} hold no files", "add images or remove the folders"
        )
    return found


def load_folder(
    root: Path,
    size: int | tuple[int, int],
    channels: int,
    on_error: OnError = "raise",
    options: DicomOptions | None = None,
    cache_dir: str | None = None,
) -> LoadedImages:
    """Read ``<root>/<class>/*`` (or ``<root>/{train,val,test}/<class>/*``) into a stack."""
    split_roots = {s: root / s for s in ("train", "val", "test") if (root / s).is_dir()}
    has_splits = "train" in split_roots and "test" in split_roots
    parts = split_roots if has_splits else {"": root}
    per_split = {split: _class_files(folder) for split, folder in parts.items()}
    class_names = tuple(sorted({name for files in per_split.values() for name in files}))
    if not class_names:
        raise DataError(
            f"{root} has no class subfolders (expected <class>/<image> files)",
            "put each class's images in a subfolder named after it",
        )
    files: list[Path] = []
    labels: list[int] = []
    splits: list[str] = []
    for split, classes in per_split.items():
        for name, class_files in classes.items():
            files.extend(class_files)
            labels.extend([class_names.index(name)] * len(class_files))
            splits.extend([split] * len(class_files))
    stack = _decode(files, size, channels, on_error, options or DicomOptions(), cache_dir)
    kept = stack.kept
    return LoadedImages(
        images=stack.images,
        labels=np.asarray(labels, np.int64)[kept],
        class_names=class_names,
        source="image folder",
        names=tuple(str(files[i].relative_to(root)) for i in kept),
        splits=np.asarray(splits, dtype=object)[kept] if has_splits else None,
        skipped=stack.skipped,
    )


def load_labelled_directory(
    root: Path,
    size: int | tuple[int, int],
    channels: int,
    labels_csv: str | None = None,
    file_column: str = "file",
    label_column: str = "label",
    patient_column: str | None = None,
    split_column: str | None = "split",
    on_error: OnError = "raise",
    options: DicomOptions | None = None,
    cache_dir: str | None = None,
) -> LoadedImages:
    """Read the files a labels CSV lists (paths relative to ``root``): DICOM or ordinary images."""
    import pandas as pd

    csv = Path(labels_csv) if labels_csv else root / "labels.csv"
    if not csv.is_file():
        raise DataError(
            f"labels CSV not found: {csv}", "set data.labels_csv or add labels.csv to the DICOM folder"
        )
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{csv} is not a readable CSV ({type(exc).__name__})", "save it as comma-separated UTF-8"
        ) from None
    needed = [c for c in (file_column, label_column, patient_column) if c]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(
            f"{csv.name} lacks column(s) {', '.join(missing)} (it has {', '.join(map(str, table.columns)) or 'none'})",
            "rename the columns or set data.file_column / data.label_column / data.patient_column",
        )
    if table.empty:
        raise DataError(f"{csv} has no rows", "list one file and its label per row")
    blank = table[(table[file_column].str.strip() == "") | (table[label_column].str.strip() == "")]
    if len(blank):
        raise DataError(
            f"{csv.name}: {len(blank)} row(s) lack a file or a label (first: row {blank.index[0] + 2})",
            "fill or delete those rows",
        )
    paths = [(root / f.strip()) for f in table[file_column]]
    exists = np.array([p.is_file() for p in paths])
    skipped: list[tuple[str, str]] = []
    if not exists.all():
        absent = [table[file_column].iloc[i] for i in np.flatnonzero(~exists)]
        if on_error == "raise":
            shown = ", ".join(absent[:3]) + (f" and {len(absent) - 3} more" if len(absent) > 3 else "")
            raise DataError(
                f"{csv.name}: {len(absent)} row(s) name files that do not exist under {root}: {shown}",
                "fix the paths in the CSV or set data.on_error=skip",
            )
        skipped.extend((name, f"{name}: listed in {csv.name} but not found") for name in absent)
        table, paths = table[exists].reset_index(drop=True), [p for p, ok in zip(paths, exists) if ok]
    class_names = tuple(sorted(table[label_column].str.strip().unique(), key=_natural))
    labels = table[label_column].str.strip().map({n: i for i, n in enumerate(class_names)}).to_numpy(np.int64)
    stack = _decode(paths, size, channels, on_error, options or DicomOptions(), cache_dir)
    kept = stack.kept
    use_split = split_column is not None and split_column in table.columns
    return LoadedImages(
        images=stack.images,
        labels=labels[kept],
        class_names=class_names,
        source="labelled directory (labels CSV)",
        names=tuple(table[file_column].iloc[i] for i in kept),
        patients=table[patient_column].to_numpy(dtype=object)[kept] if patient_column else None,
        splits=table[split_column].str.strip().str.lower().to_numpy(dtype=object)[kept]
        if use_split
        else None,
        skipped=tuple(skipped) + stack.skipped,
    )


def _natural(value: str) -> tuple[int, float | str]:
    """Sort numeric labels numerically ("2" before "10"), the rest alphabetically."""
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _npz_images(array: np.ndarray, key: str, size: int | tuple[int, int], channels: int) -> np.ndarray:
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[-1] in (1, 3, 4):
        array = array.transpose(0, 3, 1, 2)
    else:
        raise DataError(
            f"'{key}' has shape {array.shape}; expected (N, H, W) or (N, H, W, C)",
            "3-D volumes are not supported; pass 2-D images",
        )
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.number):
            raise DataError(
                f"'{key}' holds {array.dtype} values, not pixels", "store uint8 or numeric images"
            )
        array = _scale_to_uint8(array.astype(np.float32))
    return resize_stack(array, size, channels)


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.round(np.nan_to_num((values - low) * scale)).clip(0, 255).astype(np.uint8)


def _npz_labels(array: np.ndarray, key: str, count: int) -> np.ndarray:
    labels = np.asarray(array)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(
            f"'{key}' has shape {labels.shape}: multi-label targets are not supported",
            "give one class per image",
        )
    if len(labels) != count:
        raise DataError(f"'{key}' has {len(labels)} labels for {count} images", "store one label per image")
    if not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
        raise DataError(
            f"'{key}' must hold class numbers 0..K-1 (got {labels.dtype})", "store integer labels"
        )
    return labels.astype(np.int64)


def load_npz(
    path: Path, size: int | tuple[int, int], channels: int, class_names: Sequence[str] | None = None
) -> LoadedImages:
    """Read a MedMNIST-style ``.npz``: ``{train,val,test}_{images,labels}``, or one ``images``/``labels`` pair."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc})", "save it with numpy.savez") from None
    with archive:
        keys = set(archive.files)
        if {"train_images", "train_labels", "test_images", "test_labels"} <= keys:
            parts = [s for s in ("train", "val", "test") if f"{s}_images" in keys and f"{s}_labels" in keys]
        elif {"images", "labels"} <= keys:
            parts = [""]
        else:
            raise DataError(
                f"{path.name} has keys {', '.join(sorted(keys)) or 'none'}; expected train_images, train_labels, "
                "test_images, test_labels (and val_*) or images and labels",
                "save the arrays under those names",
            )
        images, labels, splits = [], [], []
        for part in parts:
            prefix = f"{part}_" if part else ""
            stack = _npz_images(archive[f"{prefix}images"], f"{prefix}images", size, channels)
            images.append(stack)
            labels.append(_npz_labels(archive[f"{prefix}labels"], f"{prefix}labels", len(stack)))
            splits.extend([part] * len(stack))
    all_labels = np.concatenate(labels)
    count = int(all_labels.max()) + 1 if len(all_labels) else 0
    names = tuple(str(n) for n in class_names) if class_names else tuple(str(k) for k in range(count))
    if len(names) < count:
        raise DataError(
            f"labels go up to {count - 1} but data.class_names lists {len(names)} names",
            "list one name per class",
        )
    return LoadedImages(
        images=np.concatenate(images),
        labels=all_labels,
        class_names=names,
        source="npz arrays",
        splits=np.asarray(splits, dtype=object) if parts != [""] else None,
    )
