"""Decode image files (PNG, JPEG, BMP, TIFF...) into uint8 arrays, and stack many of them once into memory.

``decode_image`` turns one file or byte string into an ``(H, W, C)`` uint8 array with Pillow: converted
to 1 (grayscale) or 3 (RGB) channels, optionally resized. Anything Pillow cannot read raises a one-line
``DataError`` naming the file.

Every decoder refuses an image of more than ``max_image_pixels()`` pixels (height x width x frames) before
decoding its pixels, with ``ImageTooLarge`` (a ``DataError``): a few hundred kilobytes of compressed PNG or
DICOM can otherwise expand to gigabytes. The limit is process-wide (default 50 million pixels, or the
environment variable ``LEPTON_MAX_IMAGE_PIXELS``; ``lepton serve --max-image-pixels`` sets it too).

``decode_stack`` decodes a list of sources once, in a thread pool (Pillow releases the GIL while it
decodes), into one ``(N, C, H, W)`` uint8 tensor held in memory: training then slices batches out of that
tensor instead of reopening files every epoch. Sources that fail are either reported (``on_error="raise"``)
or skipped and counted (``on_error="skip"``). A custom ``decoder`` lets a plugin stack formats Pillow does not
read (DICOM, raw arrays) through the same path. ``ImageStackCache`` optionally keeps decoded stacks on disk
between runs, keyed by the file list, sizes, modification times and decode settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np

from lepton_core.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_SUFFIXES",
    "DecodedStack",
    "ImageSource",
    "ImageStackCache",
    "ImageTooLarge",
    "check_image_pixels",
    "decode_image",
    "decode_stack",
    "fit_array",
    "max_image_pixels",
    "normalize_size",
    "resize_stack",
    "set_max_image_pixels",
    "source_name",
    "synthetic_image",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
"""File suffixes (lower case) that image-folder loaders treat as images."""

ImageSource = bytes | str | Path
"""A path to an image file, or the file's bytes."""

OnError = Literal["raise", "skip"]

DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
"""Most pixels (height x width x frames) an image may have unless the limit is changed."""


PIXEL_LIMIT_FIX = "send a smaller image (or raise the limit: lepton serve --max-image-pixels, LEPTON_MAX_IMAGE_PIXELS)"


class ImageTooLarge(DataError):
    """An image with more pixels than the process-wide limit; the server answers 413 for it."""


def _limit_from_environment() -> int:
    given = os.environ.get("LEPTON_MAX_IMAGE_PIXELS", "").strip()
    if not given:
        return DEFAULT_MAX_IMAGE_PIXELS
    if not given.isdigit() or int(given) < 1:
        raise ConfigError(
            f"LEPTON_MAX_IMAGE_PIXELS={given!r} is not a positive whole number", "set it to e.g. 50000000 or unset it"
        )
    return int(given)


_max_pixels: int | None = None


def max_image_pixels() -> int:
    """The current limit on an image's pixels (height x width x frames)."""
    global _max_pixels
    if _max_pixels is None:
        _max_pixels = _limit_from_environment()
    return _max_pixels


def set_max_image_pixels(limit: int) -> None:
    """Change the process-wide pixel limit (Pillow's decompression-bomb limit follows it)."""
    global _max_pixels
    if limit < 1:
        raise ConfigError(f"pixel limit {limit} is not positive", "pass a positive number of pixels")
    _max_pixels = limit
    _pillow()


def check_image_pixels(height: int, width: int, frames: int, name: str) -> None:
    """Raise ImageTooLarge when ``height x width x frames`` exceeds ``max_image_pixels()``; call before decoding."""
    limit = max_image_pixels()
    total = max(int(height), 0) * max(int(width), 0) * max(int(frames), 1)
    if total > limit:
        shape = f"{height} x {width}" + (f" x {frames} frames" if frames > 1 else "")
        raise ImageTooLarge(
            f"{name} has {total} pixels ({shape}), more than the limit of {limit}",
            PIXEL_LIMIT_FIX,
        )


def _pillow() -> ModuleType:
    """PIL.Image with its bomb limit at ours: its warning is redundant (we refuse those images), so it is silenced."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_image_pixels()
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    return Image


def normalize_size(size: tuple[int, int] | Sequence[int] | int | None) -> tuple[int, int] | None:
    """``64`` -> ``(64, 64)``; ``(h, w)`` -> ``(h, w)``; None stays None. Refuses non-positive sizes."""
    if size is None:
        return None
    pair = (int(size), int(size)) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
    if len(pair) != 2 or min(pair) < 1:
        raise ConfigError(
            f"image size {size!r} is not a positive int or (height, width) pair", "set e.g. size=64"
        )
    return pair  # type: ignore[return-value]


def source_name(source: ImageSource, name: str | None = None) -> str:
    """How errors refer to a source: the given name, the path, or ``<N bytes>``."""
    if name:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    return str(source)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Min-max scale a numeric array to 0..255 uint8 (uint8 input is returned as is)."""
    if array.dtype == np.uint8:
        return array
    values = array.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.uint8)
    low, high = float(values[finite].min()), float(values[finite].max())
    scaled = (np.where(finite, values, low) - low) / (high - low) if high > low else np.zeros_like(values)
    return np.round(scaled * 255.0).astype(np.uint8)


def fit_array(array: np.ndarray, size: tuple[int, int] | int | None, channels: int) -> np.ndarray:
    """Bring a 2-D or ``(H, W, C)`` numeric array to uint8 ``(H, W, channels)``, resized to ``size=(h, w)``.

    Non-uint8 input is min-max scaled to 0..255. Grayscale -> RGB repeats the channel; RGB -> grayscale uses
    the ITU-R 601 luma weights (as Pillow's ``convert("L")``). Resizing is bilinear with antialiasing.
    """
    from PIL import Image

    if channels not in (1, 3):
        raise ConfigError(f"channels={channels} is not supported", "use channels=1 (grayscale) or 3 (RGB)")
    pixels = _to_uint8(np.asarray(array))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4):
        raise DataError(
            f"array of shape {array.shape} is not an image", "pass (H, W), (H, W, 1) or (H, W, 3) arrays"
        )
    if pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    if channels == 1 and pixels.shape[2] == 3:
        luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        pixels = np.round(luma).clip(0, 255).astype(np.uint8)[:, :, None]
    elif channels == 3 and pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    target = normalize_size(size)
    if target is not None and pixels.shape[:2] != target:
        mode = "L" if channels == 1 else "RGB"
        image = Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode=mode)
        image = image.resize((target[1], target[0]), Image.Resampling.BILINEAR, reducing_gap=None)
        pixels = np.asarray(image).reshape(target[0], target[1], channels)
    return np.ascontiguousarray(pixels)


def resize_stack(images: np.ndarray, size: tuple[int, int] | int, channels: int) -> np.ndarray:
    """Bring an in-memory uint8 ``(N, C, H, W)`` stack (C in 1, 3, 4) to ``channels`` and ``size``, in one pass.

    The same conversions as ``fit_array`` (luma for RGB -> gray, repeat for gray -> RGB, alpha dropped),
    with antialiased bilinear resizing done by torch on the whole stack.
    """
    import torch
    import torch.nn.functional as F

    target = normalize_size(size)
    assert target is not None
    if images.ndim != 4 or images.shape[1] not in (1, 3, 4):
        raise DataError(f"image array of shape {images.shape} is not (N, C, H, W)", "pass 1, 3 or 4 channels")
    stack = torch.from_numpy(np.ascontiguousarray(images[:, :3]))
    if channels == 1 and stack.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        stack = (stack.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    elif channels == 3 and stack.shape[1] == 1:
        stack = stack.repeat(1, 3, 1, 1)
    if tuple(stack.shape[2:]) != target:
        chunks = [
            F.interpolate(part.float(), size=target, mode="bilinear", antialias=True, align_corners=False)
            for part in stack.split(4096)
        ]
        stack = torch.cat(chunks).round().clamp(0, 255).to(torch.uint8)
    return stack.numpy()


def decode_image(
    source: ImageSource,
    size: tuple[int, int] | int | None = None,
    channels: int = 3,
    name: str | None = None,
) -> np.ndarray:
    """Decode an image file or its bytes into a uint8 array of shape ``(H, W, channels)``.

    ``size`` is ``(height, width)`` or one int for a square; None keeps the file's size. 16-bit and float
    images are min-max scaled to 0..255; palette and alpha images are flattened. A missing file, a non-image
    or a truncated image raises ``DataError`` naming ``name`` (default: the path, or ``<N bytes>``).
    """
    from PIL import UnidentifiedImageError

    Image = _pillow()
    label = source_name(source, name)
    handle = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
    if isinstance(handle, Path) and not handle.is_file():
        raise DataError(f"image file not found: {label}", "check the path")
    try:
        with Image.open(handle) as image:
            check_image_pixels(image.height, image.width, 1, label)  # only the first frame is decoded
            image.load()
            if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                array = np.asarray(image, dtype=np.float32)
            elif image.mode in ("L", "RGB"):
                array = np.asarray(image)
            else:
                array = np.asarray(image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB"))
    except UnidentifiedImageError:
        raise DataError(
            f"{label} is not an image Pillow can read", "remove it or convert it to PNG/JPEG"
        ) from None
    except Image.DecompressionBombError:  # over twice the limit: Pillow refuses it while reading the header
        raise ImageTooLarge(
            f"{label} has more than {2 * max_image_pixels()} pixels, more than the limit of {max_image_pixels()}",
            PIXEL_LIMIT_FIX,
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{label} cannot be decoded ({exc})", "remove or re-export the file") from None
    if array.ndim == 3 and array.shape[2] == 4:
        array = _flatten_alpha(array)
    return fit_array(array, size, channels)


def _flatten_alpha(rgba: np.ndarray) -> np.ndarray:
    """Composite an RGBA uint8 image on black (transparent pixels carry no signal)."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    return np.round(rgba[:, :, :3].astype(np.float32) * alpha).astype(np.uint8)


@dataclass(frozen=True)
class DecodedStack:
    """Decoded images in one uint8 array ``(N, C, H, W)`` with the indices of the sources they came from.

    ``kept[i]`` is the position in the input list of ``images[i]``; ``skipped`` lists ``(name, reason)`` of
    every source that could not be decoded (only with ``on_error="skip"``).
    """

    images: np.ndarray
    kept: np.ndarray
    skipped: tuple[tuple[str, str], ...] = field(default=())

    def tensor(self):
        """The stack as a torch uint8 tensor, sharing memory."""
        import torch

        return torch.from_numpy(self.images)


Decoder = Callable[[ImageSource, tuple[int, int] | None, int, str], np.ndarray]


def _pillow_decoder(
    source: ImageSource, size: tuple[int, int] | None, channels: int, name: str
) -> np.ndarray:
    return decode_image(source, size, channels, name)


def decode_stack(
    sources: Sequence[ImageSource],
    size: tuple[int, int] | int,
    channels: int = 3,
    on_error: OnError = "raise",
    decoder: Decoder | None = None,
    names: Sequence[str] | None = None,
    workers: int | None = None,
) -> DecodedStack:
    """Decode every source once into a ``(N, C, H, W)`` uint8 stack of one common ``size``.

    ``decoder(source, size, channels, name)`` must return uint8 ``(H, W, channels)`` or raise ``DataError``
    (default: ``decode_image``). With ``on_error="raise"`` the first failing source (in input order) raises;
    with ``"skip"`` failures are left out and listed in ``skipped``. Decoding runs in ``workers`` threads
    (default: up to 4).
    """
    import os

    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error={on_error!r} is not supported", "use on_error=raise or on_error=skip")
    target = normalize_size(size)
    assert target is not None
    decode = decoder or _pillow_decoder
    labels = [source_name(s, names[i] if names else None) for i, s in enumerate(sources)]

    def one(index: int) -> np.ndarray | DataError:
        try:
            pixels = decode(sources[index], target, channels, labels[index])
        except DataError as exc:
            return exc
        if pixels.shape != (*target, channels) or pixels.dtype != np.uint8:
            return DataError(
                f"{labels[index]}: decoder returned {pixels.dtype} {pixels.shape}", "fix the decoder"
            )
        return pixels

    count = workers or min(4, os.cpu_count() or 1)
    if count > 1 and len(sources) > 16:
        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(one, range(len(sources))))
    else:
        results = [one(i) for i in range(len(sources))]
    images = np.empty((len(sources), channels, *target), np.uint8)
    kept: list[int] = []
    skipped: list[tuple[str, str]] = []
    for index, result in enumerate(results):
        if isinstance(result, DataError):
            if on_error == "raise":
                raise result
            skipped.append((labels[index], result.problem))
            continue
        images[len(kept)] = result.transpose(2, 0, 1)
        kept.append(index)
    return DecodedStack(images[: len(kept)], np.asarray(kept, dtype=np.int64), tuple(skipped))


class ImageStackCache:
    """Keeps decoded stacks on disk (``.npz``) so a second run over the same files skips decoding.

    The key hashes each path with its size and modification time, plus ``size``, ``channels`` and any
    ``extra`` settings that change decoding (windowing, for instance); a changed file means a new key.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def key(
        self, paths: Sequence[Path], size: tuple[int, int] | int, channels: int, extra: object = None
    ) -> str:
        """A hex digest identifying the decode of ``paths`` with these settings."""
        digest = hashlib.sha256()
        digest.update(json.dumps([normalize_size(size), channels, repr(extra)]).encode())
        for path in paths:
            stat = Path(path).stat()
            digest.update(f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:32]

    def load(self, key: str) -> DecodedStack | None:
        """The cached stack for ``key``, or None when absent or unreadable."""
        path = self.folder / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                skipped = tuple(tuple(pair) for pair in json.loads(str(data["skipped"])))
                return DecodedStack(data["images"], data["kept"], skipped)  # type: ignore[arg-type]
        except (OSError, ValueError, KeyError):
            return None

    def save(self, key: str, stack: DecodedStack) -> None:
        """Write ``stack`` under ``key`` atomically (a temporary file renamed into place)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{key}.partial.npz"
        np.savez(partial, images=stack.images, kept=stack.kept, skipped=np.asarray(json.dumps(stack.skipped)))
        partial.replace(self.folder / f"{key}.npz")

    def decode(
        self,
        paths: Sequence[Path],
        size: tuple[int, int] | int,
        channels: int = 3,
        on_error: OnError = "raise",
        decoder: Decoder | None = None,
        extra: object = None,
    ) -> DecodedStack:
        """``decode_stack(paths, ...)`` through the cache."""
        key = self.key(paths, size, channels, extra)
        cached = self.load(key)
        if cached is not None and (on_error == "skip" or not cached.skipped):
            return cached
        stack = decode_stack(paths, size, channels, on_error, decoder)
        self.save(key, stack)
        return stack


def synthetic_image(channels: int, height: int, width: int, variant: int = 0) -> np.ndarray:
    """A made-up uint8 ``(C, H, W)`` image of the given size (a diagonal gradient with a bright disc; ``variant``
    moves the disc): what a bundle shows as its input example instead of an image of the data."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    gradient = 40.0 + 120.0 * (rows / max(height - 1, 1) + cols / max(width - 1, 1)) / 2.0
    cy, cx = height * (0.35 + 0.3 * (variant % 2)), width * (0.35 + 0.3 * (variant % 2))
    disc = ((rows - cy) ** 2 + (cols - cx) ** 2) <= (min(height, width) / 6.0) ** 2
    plane = np.where(disc, 230.0, gradient).astype(np.uint8)
    return np.repeat(plane[None], channels, axis=0)
