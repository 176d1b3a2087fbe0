"""The classical reference: logistic regression on per-slide summaries of hand-made tile colour and texture features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["TileStatsBaseline", "tile_features"]

FEATURE_NAMES = (
    "red", "green", "blue", "red_sd", "green_sd", "blue_sd", "saturation", "dark_share", "edge_energy", "local_contrast",
)


def tile_features(tiles: np.ndarray) -> np.ndarray:
    """``(N, 10)`` features of uint8 tiles ``(N, 3, t, t)``: channel means and spreads, saturation, dark-pixel
    share, gradient energy and the spread of 4x4-block means (texture coarseness)."""
    rgb = tiles.astype(np.float32) / 255.0
    n, _, size, _ = rgb.shape
    mean, spread = rgb.mean(axis=(2, 3)), rgb.std(axis=(2, 3))
    high, low = rgb.max(axis=1), rgb.min(axis=1)
    saturation = ((high - low) / np.maximum(high, 1e-6)).mean(axis=(1, 2))
    gray = rgb.mean(axis=1)
    dark = (gray < 0.45).mean(axis=(1, 2))
    edges = np.abs(np.diff(gray, axis=1)).mean(axis=(1, 2)) + np.abs(np.diff(gray, axis=2)).mean(axis=(1, 2))
    block = size // 4 * 4
    blocks = gray[:, :block, :block].reshape(n, block // 4, 4, block // 4, 4).mean(axis=(2, 4))
    contrast = blocks.reshape(n, -1).std(axis=1)
    return np.column_stack([mean, spread, saturation, dark, edges, contrast])


def slide_features(tiles: np.ndarray) -> np.ndarray:
    """A slide's tile features summarised by mean, max and 90th percentile over its tiles (30 numbers)."""
    features = tile_features(tiles)
    return np.concatenate([features.mean(axis=0), features.max(axis=0), np.quantile(features, 0.9, axis=0)])


class TileStatsBaseline:
    """Standardised L2 logistic regression on ``slide_features``: a lesion moves the max and top percentile."""

    name = "tile_stats_logistic"

    def __init__(self, c: float = 0.3, max_iter: int = 2000) -> None:
        self.c, self.max_iter = float(c), int(max_iter)

    def fit(self, datamodule: Any) -> TileStatsBaseline:
        """Fit on the training slides."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        bags = datamodule.bags["train"]
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=self.c, max_iter=self.max_iter))
        self.model.fit(np.stack([slide_features(b.tiles) for b in bags]), [b.label for b in bags])
        return self

    def predict(self, bags: Sequence[Any]) -> np.ndarray:
        """Probability of tumour for each bag (anything with ``tiles``: uint8 ``(N, 3, t, t)``)."""
        return self.model.predict_proba(np.stack([slide_features(b.tiles) for b in bags]))[:, 1]
