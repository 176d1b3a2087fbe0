"""Draw heatmaps (Grad-CAM, anomaly maps...) over images, one axes at a time or as a report grid figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lepton_core.hooks.specs import Figure, RunContext

__all__ = ["draw_overlay", "overlay_grid", "resize_heatmap", "to_display"]


def to_display(image: Any) -> np.ndarray:
    """An image as a 2-D (grayscale) or ``(H, W, 3)`` array for ``imshow``.

    Accepts ``(H, W)``, ``(H, W, C)`` or ``(C, H, W)`` with C in {1, 3}, numpy or torch, uint8 or float.
    """
    array = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
        array = array.transpose(1, 2, 0)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype != np.uint8:
        array = array.astype(np.float32)
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    return array


def resize_heatmap(heatmap: Any, shape: tuple[int, int]) -> np.ndarray:
    """A 2-D heatmap scaled to 0..1 and resized bilinearly to ``shape=(height, width)``."""
    from PIL import Image

    values = heatmap.detach().cpu().numpy() if hasattr(heatmap, "detach") else np.asarray(heatmap)
    values = np.asarray(values, dtype=np.float32)
    while values.ndim > 2 and values.shape[0] == 1:  # (1, h, w) -> (h, w); a (1, 1) map stays 2-D
        values = values[0]
    if values.ndim != 2:
        raise ValueError(f"a heatmap must be 2-D, got shape {values.shape}")
    values = np.nan_to_num(values)
    low, high = float(values.min()), float(values.max())
    values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    if values.shape != tuple(shape):
        values = np.asarray(
            Image.fromarray(values, mode="F").resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
        )
    return np.clip(values, 0.0, 1.0)


def draw_overlay(
    ax: Any,
    image: Any,
    heatmap: Any | None,
    title: str = "",
    alpha: float = 0.6,
    cmap: str = "jet",
    title_color: str = "black",
) -> None:
    """Draw ``image`` (grayscale or RGB) on ``ax`` with ``heatmap`` (any 2-D size, rescaled) blended on top.

    The heatmap's opacity grows with its value (at most ``alpha``), so only the hot regions tint the image.
    """
    shown = to_display(image)
    ax.imshow(
        shown,
        cmap="gray" if shown.ndim == 2 else None,
        vmin=0 if shown.dtype == np.uint8 else None,
        vmax=255 if shown.dtype == np.uint8 else None,
    )
    if heatmap is not None:
        import matplotlib

        heat = resize_heatmap(heatmap, shown.shape[:2])
        colours = matplotlib.colormaps[cmap](heat)
        colours[..., 3] = alpha * np.sqrt(
            heat
        )  # cold regions stay see-through, so the anatomy remains visible
        ax.imshow(colours)
    ax.set_title(title, fontsize=8, color=title_color)
    ax.axis("off")


def overlay_grid(
    target: RunContext | Path,
    name: str,
    images: Sequence[Any],
    heatmaps: Sequence[Any | None],
    captions: Sequence[str],
    title: str,
    caption: str = "",
    columns: int = 4,
    caption_colors: Sequence[str] | None = None,
    alpha: float = 0.6,
) -> Figure:
    """Save a grid of heatmap overlays as ``<figures_dir>/<name>.png`` and return it as a report Figure.

    ``target`` is the run's context (figures go to ``ctx.figures_dir``) or a folder. Each cell shows one
    image with its heatmap and caption (e.g. "true: lesion / pred: normal 0.83"); ``caption_colors`` can
    mark right and wrong predictions.
    """
    from lepton_core.report.figures import new_figure, save_figure

    count = max(len(images), 1)
    columns = max(1, min(columns, count))
    rows = (count + columns - 1) // columns
    fig, _ = new_figure(2.2 * columns, 2.35 * rows)
    fig.clf()
    for index in range(rows * columns):
        ax = fig.add_subplot(rows, columns, index + 1)
        if index >= len(images):
            ax.axis("off")
            continue
        color = caption_colors[index] if caption_colors else "black"
        draw_overlay(ax, images[index], heatmaps[index], captions[index], alpha=alpha, title_color=color)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, target, name, title, caption)
