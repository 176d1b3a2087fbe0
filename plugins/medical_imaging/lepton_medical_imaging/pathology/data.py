"""PathologyDataModule: a folder of tiled TIFF slides + a labels CSV -> bags of tissue tiles, stratified splits.

``<path>/*.tif|*.tiff`` slides, ``labels.csv`` with ``slide,label`` (label 0/1; the slide by file name,
with or without its suffix), and optionally ``lesions.csv`` with ``slide,x0,y0,x1,y1`` lesion boxes in
level-0 pixels, used only to score where the attention looks. Without ``data.path`` a demo folder is
generated (into a temporary folder, removed once the slides are read).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.errors import ConfigError, DataError
from lepton_medical_imaging.pathology.demo import LABELS_FILE, LESIONS_FILE, make_demo_slides
from lepton_medical_imaging.pathology.slides import SLIDE_SUFFIXES, TilingOptions, read_level, tile_slide
from lepton_medical_imaging.splits import SPLITS, assign_splits

__all__ = ["CLASS_NAMES", "BagLoader", "PathologyDataModule", "SlideBag", "lesion_tiles", "load_slides"]

CLASS_NAMES = ("normal", "tumour")
POSITIVE, NEGATIVE = {"1", "1.0", "true"}, {"0", "0.0", "false"}
BOX_COLUMNS = ("x0", "y0", "x1", "y1")


@dataclass(frozen=True)
class SlideBag:
    """One slide as a bag of tiles, its label and, when annotated, which tiles overlap a lesion."""

    name: str
    label: int
    tiles: np.ndarray  # uint8 (N, 3, tile, tile)
    coords: np.ndarray  # (N, 2) top-left (y, x) in level-0 pixels
    tile_px0: float
    grid: tuple[int, int]
    thumbnail: np.ndarray
    lesion: np.ndarray | None  # bool (N,), or None without annotations


def lesion_tiles(coords: np.ndarray, tile_px0: float, boxes: np.ndarray, min_overlap: float = 0.25) -> np.ndarray:
    """True for tiles whose area overlaps the lesion boxes ``(x0, y0, x1, y1)`` by at least ``min_overlap``."""
    if len(boxes) == 0:
        return np.zeros(len(coords), dtype=bool)
    y0, x0 = coords[:, 0:1].astype(float), coords[:, 1:2].astype(float)
    width = np.clip(np.minimum(x0 + tile_px0, boxes[None, :, 2]) - np.maximum(x0, boxes[None, :, 0]), 0, None)
    height = np.clip(np.minimum(y0 + tile_px0, boxes[None, :, 3]) - np.maximum(y0, boxes[None, :, 1]), 0, None)
    return (width * height).sum(axis=1) >= min_overlap * tile_px0**2


def _read_csv(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read the {what} {path.name} ({str(exc).splitlines()[0][:120]})", "save it as a CSV") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:8]))
        raise DataError(
            f"the {what} {path.name} has no column(s) {', '.join(missing)} (columns: {shown})",
            f"name its columns {', '.join(columns)}",
        )
    return frame


def _labels(frame: pd.DataFrame, label_column: str, path: Path) -> np.ndarray:
    keys = frame[label_column].astype(str).str.strip().str.lower()
    bad = sorted(set(keys) - POSITIVE - NEGATIVE)
    if bad:
        raise DataError(
            f"label column '{label_column}' of {path.name} must hold 0 or 1, but has {bad[0]!r}",
            "label each slide 1 (tumour) or 0 (normal)",
        )
    labels = keys.isin(POSITIVE).to_numpy(dtype=int)
    if labels.min() == labels.max():
        raise DataError(
            f"{path.name} labels every slide {CLASS_NAMES[labels[0]]}: one class only",
            "add slides of both classes (0 normal, 1 tumour)",
        )
    return labels


def load_slides(
    folder: Path,
    options: TilingOptions,
    labels_csv: Path | None = None,
    lesions_csv: Path | None = None,
    slide_column: str = "slide",
    label_column: str = "label",
) -> tuple[list[SlideBag], int]:
    """The labelled slides of ``folder`` as bags, and how many slide files had no label (left out)."""
    if not folder.is_dir():
        raise DataError(f"slide folder not found: {folder}", "set data.path to a folder of .tif/.tiff slides")
    files = {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in SLIDE_SUFFIXES}
    if not files:
        raise DataError(f"{folder} holds no slides", "add .tif/.tiff slides (and labels.csv) to the folder")
    labels_path = labels_csv or folder / LABELS_FILE
    if not labels_path.is_file():
        raise DataError(f"labels CSV not found: {labels_path}", "write it with columns slide,label or set data.labels_csv")
    table = _read_csv(labels_path, (slide_column, label_column), "labels CSV")
    by_stem = {Path(name).stem: name for name in files}
    names = [str(s).strip() for s in table[slide_column]]
    resolved = [n if n in files else by_stem.get(n) for n in names]
    unknown = [n for n, r in zip(names, resolved) if r is None]
    if unknown:
        raise DataError(
            f"{labels_path.name} names {len(unknown)} slide(s) not in {folder}, e.g. '{unknown[0]}'",
            "fix the slide names or add the slides",
        )
    repeated = sorted({r for r in resolved if resolved.count(r) > 1})
    if repeated:
        raise DataError(f"{labels_path.name} labels slide '{repeated[0]}' more than once", "keep one row per slide")
    labels = _labels(table, label_column, labels_path)
    boxes = _boxes(lesions_csv if lesions_csv is not None else folder / LESIONS_FILE, slide_column, by_stem, files,
                   required=lesions_csv is not None)
    from rich.progress import Progress

    bags = []
    with Progress(transient=True) as progress:
        for name, label in progress.track(list(zip(resolved, labels)), description="reading slides"):
            pixels, downsample = read_level(files[name], options.level, name)
            tiles = tile_slide(pixels, downsample, options, name)
            lesion = None if boxes is None else lesion_tiles(tiles.coords, tiles.tile_px0, boxes.get(name, np.zeros((0, 4))))
            bags.append(SlideBag(name, int(label), tiles.tiles, tiles.coords, tiles.tile_px0, tiles.grid, tiles.thumbnail, lesion))
    return bags, len(files) - len(bags)


def _boxes(path: Path, slide_column: str, by_stem: dict[str, str], files: dict[str, Path], required: bool) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        if required:
            raise DataError(f"lesions CSV not found: {path}", "fix data.lesions_csv or unset it")
        return None
    frame = _read_csv(path, (slide_column, *BOX_COLUMNS), "lesions CSV")
    values = frame[list(BOX_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        raise DataError(f"the lesions CSV {path.name} has non-numeric boxes", "give x0,y0,x1,y1 in level-0 pixels")
    boxes: dict[str, list[np.ndarray]] = {}
    for raw, box in zip(frame[slide_column].astype(str).str.strip(), values.to_numpy(dtype=float)):
        name = raw if raw in files else by_stem.get(raw)
        if name is None:
            raise DataError(f"the lesions CSV {path.name} names slide '{raw}', which is not in the folder", "fix the slide names")
        boxes.setdefault(name, []).append(box)
    return {name: np.stack(rows) for name, rows in boxes.items()}


class BagLoader:
    """Batches of ``bags_per_batch`` slides: their tiles normalised and stacked ``(sum N, 3, t, t)``, the
    tile count of each slide and their labels; training shuffles, rotates, flips and colour-jitters."""

    def __init__(
        self, bags: list[SlideBag], mean: list[float], std: list[float], train: bool = False, seed: int = 0,
        bags_per_batch: int = 1,
    ) -> None:
        self.bags, self.train, self.seed, self.epoch = bags, train, seed, 0
        self.bags_per_batch = max(1, int(bags_per_batch))
        self.mean = torch.tensor(mean).view(1, 3, 1, 1)
        self.std = torch.tensor(std).view(1, 3, 1, 1)

    def __len__(self) -> int:
        return (len(self.bags) + self.bags_per_batch - 1) // self.bags_per_batch

    def normalize(self, tiles: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 tiles -> the float input of the network."""
        return (torch.as_tensor(tiles).float() / 255.0 - self.mean) / self.std

    def _tiles(self, bag: SlideBag, rng: np.random.Generator) -> torch.Tensor:
        tiles = self.normalize(bag.tiles)
        if self.train:  # orientation and stain carry no label: rotate, flip and shift the colour of a slide
            tiles = torch.rot90(tiles, int(rng.integers(0, 4)), dims=(2, 3))
            if rng.random() < 0.5:
                tiles = tiles.flip(3)
            tiles = tiles + torch.from_numpy(rng.normal(0, 0.1, (1, 3, 1, 1)).astype(np.float32))
        return tiles

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        order = rng.permutation(len(self.bags)) if self.train else np.arange(len(self.bags))
        for start in range(0, len(order), self.bags_per_batch):
            bags = [self.bags[i] for i in order[start : start + self.bags_per_batch]]
            yield (
                torch.cat([self._tiles(b, rng) for b in bags]),
                torch.tensor([len(b.tiles) for b in bags]),
                torch.tensor([float(b.label) for b in bags]),
            )


class PathologyDataModule(L.LightningDataModule):
    """Slides -> tissue tiles (level, tile size, tissue mask, cap) -> stratified train/val/test bags."""

    def __init__(
        self,
        path: str | None = None,
        labels_csv: str | None = None,
        lesions_csv: str | None = None,
        slide_column: str = "slide",
        label_column: str = "label",
        level: int = 0,
        tile_size: int = 32,
        max_tiles: int = 64,
        tissue_saturation: float = 0.08,
        tissue_brightness: float = 0.92,
        min_tissue: float = 0.5,
        bags_per_batch: int = 4,
        val_fraction: float = 0.2,
        test_fraction: float = 0.25,
        demo_slides: int = 64,
        demo_size: int = 384,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if int(tile_size) < 8 or int(max_tiles) < 1 or int(level) < 0:
            raise ConfigError(
                f"data.tile_size={tile_size}, data.max_tiles={max_tiles}, data.level={level}",
                "use a tile size of at least 8 px, at least one tile, and a level of 0 or more",
            )
        if int(demo_slides) < 12:
            raise ConfigError(f"data.demo_slides={demo_slides} is too few", "use at least 12 demo slides")
        self.path, self.labels_csv, self.lesions_csv = path, labels_csv, lesions_csv
        self.slide_column, self.label_column = slide_column, label_column
        self.options = TilingOptions(
            int(level), int(tile_size), int(max_tiles), float(tissue_saturation), float(tissue_brightness),
            float(min_tissue), int(seed),
        )
        self.bags_per_batch = int(bags_per_batch)
        self.val_fraction, self.test_fraction = float(val_fraction), float(test_fraction)
        self.demo_slides, self.demo_size, self.seed = int(demo_slides), int(demo_size), int(seed)
        self.bags: dict[str, list[SlideBag]] = {}
        self.unlabelled = 0
        self.source = ""

    def _load(self) -> list[SlideBag]:
        if self.path is not None:
            folder = Path(self.path).expanduser()
            self.source = str(folder)
            bags, self.unlabelled = load_slides(
                folder, self.options, Path(self.labels_csv) if self.labels_csv else None,
                Path(self.lesions_csv) if self.lesions_csv else None, self.slide_column, self.label_column,
            )
            return bags
        self.source = f"{self.demo_slides} generated demo slides ({self.demo_size} px, tiled pyramidal TIFF)"
        with tempfile.TemporaryDirectory(prefix="lepton-slides-") as scratch:
            folder = make_demo_slides(Path(scratch), self.demo_slides, self.demo_size, self.seed)
            return load_slides(folder, self.options)[0]

    def setup(self, stage: str | None = None) -> None:
        """Read and tile every labelled slide once, then split by class."""
        if self.bags:
            return
        bags = self._load()
        labels = np.array([b.label for b in bags])
        split = assign_splits(labels, None, self.val_fraction, self.test_fraction, self.seed, CLASS_NAMES)
        for name in SPLITS:
            self.bags[name] = [b for b, s in zip(bags, split) if s == name]
        train = torch.from_numpy(np.concatenate([b.tiles for b in self.bags["train"]])).float() / 255.0
        self.mean = train.mean(dim=(0, 2, 3)).tolist()
        self.std = train.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()

    def loader(self, split: str, train: bool = False) -> BagLoader:
        """The bags of ``split``: several slides a step, shuffled and augmented, when ``train``; else one by one."""
        return BagLoader(self.bags[split], self.mean, self.std, train, self.seed, self.bags_per_batch if train else 1)

    def train_dataloader(self) -> BagLoader:
        return self.loader("train", train=True)

    def val_dataloader(self) -> BagLoader:
        return self.loader("val")

    def test_dataloader(self) -> BagLoader:
        return self.loader("test")

    def model_kwargs(self) -> dict[str, Any]:
        """The network takes RGB tiles."""
        return {"in_channels": 3}

    def summary(self) -> dict[str, Any]:
        """Source, tiling and per-split slide, tumour and tile counts, for the report."""
        options = self.options
        summary: dict[str, Any] = {
            "source": self.source,
            "tiling": f"level {options.level}, {options.tile_size}-px tiles, at most {options.max_tiles} per slide",
        }
        for name in SPLITS:
            bags = self.bags[name]
            summary[f"{name} slides"] = len(bags)
            summary[f"{name} tumour slides"] = sum(b.label for b in bags)
            summary[f"{name} tiles"] = sum(len(b.tiles) for b in bags)
        if self.unlabelled:
            summary["slides without a label (left out)"] = self.unlabelled
        return summary

    def export_state(self) -> dict[str, Any]:
        """What the predictor needs to tile and normalise a slide as in training."""
        options = self.options
        return {
            "class_names": list(CLASS_NAMES),
            "level": options.level,
            "tile_size": options.tile_size,
            "max_tiles": options.max_tiles,
            "tissue_saturation": options.tissue_saturation,
            "tissue_brightness": options.tissue_brightness,
            "min_tissue": options.min_tissue,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    def input_example(self) -> list[dict[str, Any]]:
        """One made-up small slide (generated, never one of the data's) as a base64 TIFF item."""
        from lepton_medical_imaging.pathology.predictor import example_slide_base64

        return [{"image": example_slide_base64(max(4 * self.options.tile_size, 128), self.options.level + 1), "top_tiles": 3}]
