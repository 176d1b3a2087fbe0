"""Generated H&E-like demo slides, written as real pyramidal tiled TIFF files (deterministic for a seed).

Each slide is bright glass with one or two irregular tissue regions: pink stroma with a fibre texture and
sparse small nuclei, and a per-slide stain shift (so a slide's average colour says little). Half the
slides also hold lymphoid aggregates, dense clusters of small dark round nuclei, in normal and tumour
slides alike (a dark purple patch alone is no lesion). A tumour slide holds one to three small lesions:
packed, large, irregular, pale-centred nuclei on a purple-grey ground, the texture normal tissue lacks. A
slide is positive when any lesion is present, and the lesion boxes are written for tile-level scoring.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from lepton_core.atomic import atomic_write_bytes

__all__ = ["LABELS_FILE", "LESIONS_FILE", "make_demo_slides", "render_slide", "tiff_bytes", "write_slide"]

LABELS_FILE, LESIONS_FILE = "labels.csv", "lesions.csv"
GLASS = np.array([243.0, 241.0, 244.0])


def _stamp(canvas: np.ndarray, centers: np.ndarray, radii: np.ndarray, color: np.ndarray, ring: bool = False) -> None:
    """Paint discs (pale-centred rings when ``ring``) of ``color`` onto an RGB float canvas."""
    height, width = canvas.shape[:2]
    for (cy, cx), r in zip(centers, radii):
        reach = int(np.ceil(r)) + 1
        y0, y1, x0, x1 = max(0, int(cy) - reach), min(height, int(cy) + reach + 1), max(0, int(cx) - reach), min(width, int(cx) + reach + 1)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.ogrid[y0:y1, x0:x1]
        distance = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / r
        weight = np.clip(1.2 - distance, 0.0, 1.0)
        if ring:
            weight = weight * np.clip(0.35 + distance, 0.0, 1.0)
        patch = canvas[y0:y1, x0:x1]
        patch += (color - patch) * weight[:, :, None]


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in -1..1: a coarse random grid upsampled bilinearly."""
    from PIL import Image

    coarse = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode="F").resize((shape[1], shape[0]), Image.Resampling.BILINEAR))


def _points(rng: np.random.Generator, region: np.ndarray, count: int) -> np.ndarray:
    ys, xs = np.nonzero(region)
    if len(ys) == 0 or count <= 0:
        return np.zeros((0, 2))
    pick = rng.integers(0, len(ys), count)
    return np.stack([ys[pick], xs[pick]], axis=1) + rng.uniform(-0.5, 0.5, (count, 2))


def render_slide(size: int, tumour: bool, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """One RGB uint8 ``(size, size, 3)`` slide and its lesion boxes ``(x0, y0, x1, y1)``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.full((size, size), np.inf, dtype=np.float32)
    for _ in range(int(rng.integers(1, 3))):
        cy, cx = rng.uniform(0.3, 0.7, 2) * size
        ry, rx = rng.uniform(0.2, 0.34, 2) * size
        field = np.minimum(field, ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    tissue = field + 0.35 * _smooth_noise(rng, (size, size), 6) < 1.0
    shift = rng.normal(0, 10, 3)
    stroma = np.array([228.0, 158.0, 196.0]) + shift
    nucleus = np.array([112.0, 70.0, 150.0]) + shift * 0.6
    canvas = (GLASS + rng.normal(0, 2.0, (size, size, 1))).astype(np.float32)
    fibres = np.sin((xx * rng.uniform(0.2, 0.5) + yy * rng.uniform(0.2, 0.5)) + 3 * _smooth_noise(rng, (size, size), 10))
    tissue_color = (stroma + 12 * fibres[:, :, None] + rng.normal(0, 5.0, (size, size, 1))).astype(np.float32)
    canvas[tissue] = tissue_color[tissue]
    n_nuclei = int(tissue.sum() * 0.004)
    _stamp(canvas, _points(rng, tissue, n_nuclei), rng.uniform(1.2, 2.2, n_nuclei), nucleus)
    if rng.random() < 0.5:  # lymphoid aggregates: dense small dark nuclei, in either class
        for center in _points(rng, tissue, int(rng.integers(1, 4))):
            radius = rng.uniform(10, 18)
            near = (yy - center[0]) ** 2 + (xx - center[1]) ** 2 < radius**2
            count = int(near.sum() * 0.06)
            _stamp(canvas, _points(rng, near & tissue, count), rng.uniform(1.2, 1.8, count), nucleus - 35)
    boxes: list[tuple[int, int, int, int]] = []
    if tumour:
        for center in _points(rng, field < 0.6, int(rng.integers(1, 4))):
            radius = rng.uniform(12, 22)
            near = (yy - center[0]) ** 2 + (xx - center[1]) ** 2 < radius**2
            canvas[near] += (np.array([190.0, 150.0, 200.0]) + shift - canvas[near]) * 0.6
            count = int(near.sum() * 0.022)
            _stamp(canvas, _points(rng, near, count), rng.uniform(2.6, 3.8, count), nucleus - 20, ring=True)
            boxes.append(
                (int(max(center[1] - radius, 0)), int(max(center[0] - radius, 0)),
                 int(min(center[1] + radius, size)), int(min(center[0] + radius, size)))
            )
    return np.clip(canvas, 0, 255).astype(np.uint8), boxes


def tiff_bytes(pixels: np.ndarray, levels: int = 2, tile: int = 128) -> bytes:
    """An RGB uint8 image as pyramidal tiled TIFF bytes (Deflate; each level half the previous one)."""
    import tifffile

    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        for index in range(levels):
            side = max(16, (tile >> index) // 16 * 16)
            options = {"subifds": levels - 1} if index == 0 and levels > 1 else {"subfiletype": 1} if index else {}
            writer.write(pixels[:: 2**index, :: 2**index], tile=(side, side), photometric="rgb", compression="zlib",
                         compressionargs={"level": 1}, **options)
    return buffer.getvalue()


def write_slide(path: Path, pixels: np.ndarray, levels: int = 2, tile: int = 128) -> None:
    """Write ``tiff_bytes`` of the image to ``path`` (atomically: no half-written slide is left)."""
    atomic_write_bytes(path, tiff_bytes(pixels, levels, tile))


def make_demo_slides(folder: Path, n_slides: int = 64, size: int = 384, seed: int = 0) -> Path:
    """Write ``n_slides`` slides (half tumour), ``labels.csv`` (slide,label) and ``lesions.csv`` boxes into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = np.zeros(n_slides, dtype=int)
    labels[rng.permutation(n_slides)[: n_slides // 2]] = 1
    rows, lesions = [], []
    for index, label in enumerate(labels):
        name = f"slide_{index:03d}.tif"
        pixels, boxes = render_slide(size, bool(label), rng)
        write_slide(folder / name, pixels)
        rows.append({"slide": name, "label": int(label)})
        lesions += [{"slide": name, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for b in boxes]
    pd.DataFrame(rows).to_csv(folder / LABELS_FILE, index=False)
    pd.DataFrame(lesions, columns=["slide", "x0", "y0", "x1", "y1"]).to_csv(folder / LESIONS_FILE, index=False)
    return folder
