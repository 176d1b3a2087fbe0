"""Tiled TIFF slides -> tissue tiles: read a pyramid level with tifffile, mask background, cut and cap tiles.

Files that users bring and bytes that clients upload go through the same reader. Before any pixel is
decoded it checks the TIFF signature, the pyramid level, the 8-bit RGB (or grayscale) layout, and the
pixel count against the process-wide image limit (``LEPTON_MAX_IMAGE_PIXELS``). Uploaded bytes
(``hostile=True``) are held to more: no compression but none or Deflate, and every Deflate segment must
inflate to no more than its declared size (a compressed tile cannot expand into a memory bomb).
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lepton_core.errors import DataError
from lepton_core.vision.images import check_image_pixels

__all__ = ["SLIDE_SUFFIXES", "TIFF_SIGNATURES", "SlideTiles", "TilingOptions", "read_level", "tile_slide"]

SLIDE_SUFFIXES = (".tif", ".tiff")
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
SAFE_COMPRESSIONS = {1: "none", 8: "deflate", 32946: "deflate"}
THUMBNAIL_PX = 160


@dataclass(frozen=True)
class TilingOptions:
    """How a slide becomes tiles: pyramid level, tile size, tissue mask thresholds and the tile cap."""

    level: int = 0
    tile_size: int = 32
    max_tiles: int = 64
    tissue_saturation: float = 0.08  # a pixel is tissue when its HSV saturation is above this...
    tissue_brightness: float = 0.92  # ...and its mean brightness (0..1) below this (glass is bright and grey)
    min_tissue: float = 0.5  # a tile is kept when at least this share of its pixels is tissue
    seed: int = 0  # which tiles are kept when a slide has more than max_tiles


@dataclass(frozen=True)
class SlideTiles:
    """The kept tiles of one slide, where they are, and a thumbnail of the slide."""

    tiles: np.ndarray  # uint8 (N, 3, tile, tile)
    coords: np.ndarray  # int (N, 2): top-left (y, x) of each tile in level-0 pixels
    tile_px0: float  # a tile's side in level-0 pixels (tile_size x the level's downsample factor)
    grid: tuple[int, int]  # tile rows and columns of the whole level
    thumbnail: np.ndarray  # uint8 (h, w, 3), the level shrunk to at most THUMBNAIL_PX a side
    tissue_tiles: int  # tissue tiles before the cap


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:160] if text else type(exc).__name__) or type(exc).__name__


def _check_deflate_segments(handle: Any, page: Any, name: str) -> None:
    """Every Deflate segment of ``page`` inflates to at most its declared size (else: a decompression bomb)."""
    expected = int(np.prod(page.chunks)) * page.dtype.itemsize
    for offset, count in zip(page.dataoffsets, page.databytecounts):
        if count == 0:
            continue
        handle.seek(offset)
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(handle.read(count), expected + 1)
        except zlib.error:
            raise DataError(f"{name} has a corrupt Deflate tile", "re-save the slide") from None
        if len(out) > expected or inflater.unconsumed_tail:
            raise DataError(
                f"{name} has a compressed tile that inflates past its declared {expected} bytes",
                "send a well-formed TIFF",
            )


def read_level(source: Path | bytes, level: int, name: str, hostile: bool = False) -> tuple[np.ndarray, float]:
    """The RGB uint8 pixels ``(H, W, 3)`` of pyramid ``level`` and its downsample factor from level 0."""
    import tifffile

    head = source[:4] if isinstance(source, bytes) else _head(source, name)
    if head not in TIFF_SIGNATURES:
        raise DataError(f"{name} is not a TIFF file", "give tiled TIFF slides (.tif/.tiff)")
    handle = io.BytesIO(source) if isinstance(source, bytes) else None
    try:
        with tifffile.TiffFile(handle if handle is not None else source) as tif:
            if not tif.series:
                raise DataError(f"{name} holds no image", "give a TIFF with an image")
            levels = tif.series[0].levels
            if not 0 <= level < len(levels):
                raise DataError(
                    f"{name} has {len(levels)} pyramid level(s), so level {level} does not exist",
                    f"set data.level between 0 and {len(levels) - 1}",
                )
            chosen, page = levels[level], levels[level].keyframe
            shape, axes = tuple(chosen.shape), chosen.axes
            if page.dtype != np.uint8 or axes not in ("YX", "YXS") or (axes == "YXS" and shape[2] not in (3, 4)):
                raise DataError(
                    f"{name} level {level} is {page.dtype} {axes} {shape}, not 8-bit RGB or grayscale",
                    "save slides as 8-bit RGB TIFF",
                )
            check_image_pixels(shape[0], shape[1], 1, f"{name} level {level}")
            if hostile:
                if page.compression not in SAFE_COMPRESSIONS:
                    raise DataError(
                        f"{name} uses compression {int(page.compression)}, which uploads may not",
                        "send an uncompressed or Deflate-compressed TIFF",
                    )
                if SAFE_COMPRESSIONS[page.compression] == "deflate":
                    _check_deflate_segments(tif.filehandle, page, name)
            pixels = chosen.asarray()
            full_width = levels[0].shape[1]
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile and its codecs raise many types for a bad file
        raise DataError(f"{name} is not a readable TIFF ({_reason(exc)})", "re-save the slide as a tiled TIFF") from None
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3]), float(full_width) / float(shape[1])


def _head(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(4)
    except OSError as exc:
        raise DataError(f"cannot read {name} ({_reason(exc)})", "check the file's permissions") from None


def tissue_mask(pixels: np.ndarray, options: TilingOptions) -> np.ndarray:
    """True where a pixel of an RGB uint8 image is tissue: saturated enough and darker than bright glass."""
    rgb = pixels.astype(np.float32) / 255.0
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    saturation = np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)
    return (saturation > options.tissue_saturation) & (rgb.mean(axis=2) < options.tissue_brightness)


def tile_slide(pixels: np.ndarray, downsample: float, options: TilingOptions, name: str) -> SlideTiles:
    """Cut ``pixels`` into a grid of ``tile_size`` tiles and keep the tissue ones (at most ``max_tiles``)."""
    size = options.tile_size
    height, width = pixels.shape[:2]
    if height < size or width < size:
        raise DataError(
            f"{name} is {height}x{width} px at level {options.level}, smaller than one {size}-px tile",
            "lower data.tile_size or use a finer pyramid level (data.level)",
        )
    rows, cols = height // size, width // size
    crop = pixels[: rows * size, : cols * size]
    tissue = tissue_mask(crop, options).reshape(rows, size, cols, size).mean(axis=(1, 3))
    keep = np.flatnonzero(tissue.ravel() >= options.min_tissue)
    if len(keep) == 0:
        raise DataError(
            f"{name} has no tissue tile (no {size}-px tile is {options.min_tissue:.0%} tissue)",
            "check the slide, or lower data.min_tissue / data.tissue_saturation",
        )
    found = len(keep)
    if found > options.max_tiles:
        keep = np.sort(np.random.default_rng(options.seed).choice(keep, options.max_tiles, replace=False))
    grid_y, grid_x = np.divmod(keep, cols)
    tiles = crop.reshape(rows, size, cols, size, 3).transpose(0, 2, 4, 1, 3)[grid_y, grid_x]
    step = max(1, int(np.ceil(max(height, width) / THUMBNAIL_PX)))
    coords = np.stack([grid_y, grid_x], axis=1) * size * downsample
    return SlideTiles(
        tiles=np.ascontiguousarray(tiles),
        coords=np.round(coords).astype(np.int64),
        tile_px0=size * downsample,
        grid=(rows, cols),
        thumbnail=np.ascontiguousarray(pixels[::step, ::step]),
        tissue_tiles=found,
    )
