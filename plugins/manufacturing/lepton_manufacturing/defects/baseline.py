"""Statistical anomaly detectors fitted on normal images: per-pixel Gaussian, and PCA reconstruction."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lepton_manufacturing.defects.anomaly_maps import AnomalyScorer

__all__ = ["PCABaseline", "PixelGaussianBaseline"]


class PixelGaussianBaseline:
    """Mean and standard deviation of every pixel over the normal training images; error = squared z-score."""

    name = "pixel_gaussian"

    def __init__(self, smoothing_sigma: float = 2.0) -> None:
        self.scorer = AnomalyScorer(smoothing_sigma)

    def fit(self, datamodule: Any) -> PixelGaussianBaseline:
        """Per-pixel statistics of the training normals (images in 0..1)."""
        x = datamodule.float_images("train")
        self.mean = x.mean(dim=0, keepdim=True)
        self.std = x.std(dim=0, keepdim=True).clamp_min(1e-3)
        return self

    def predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(image scores, heatmaps) for images (N, C, H, W) in 0..1."""
        with torch.inference_mode():
            scores, maps = self.scorer(((images - self.mean) / self.std) ** 2)
        return scores.numpy(), maps.numpy()


class PCABaseline:
    """Principal components of the normal training images; error = squared PCA reconstruction residual."""

    name = "pca"

    def __init__(self, variance: float = 0.95, smoothing_sigma: float = 2.0, seed: int = 0) -> None:
        self.variance = variance
        self.seed = seed
        self.scorer = AnomalyScorer(smoothing_sigma)

    def fit(self, datamodule: Any) -> PCABaseline:
        """Fit PCA keeping ``variance`` of the training normals' variance."""
        from sklearn.decomposition import PCA
        from threadpoolctl import threadpool_limits

        x = datamodule.float_images("train")
        self.shape = tuple(x.shape[1:])
        with threadpool_limits(1):
            self.pca = PCA(n_components=self.variance, svd_solver="full", random_state=self.seed).fit(x.flatten(1).numpy())
        return self

    def predict(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(image scores, heatmaps) for images (N, C, H, W) in 0..1."""
        from threadpoolctl import threadpool_limits

        flat = images.flatten(1).numpy()
        with threadpool_limits(1):
            rebuilt = self.pca.inverse_transform(self.pca.transform(flat))
        error = torch.from_numpy((flat - rebuilt).astype(np.float32) ** 2).view(-1, *self.shape)
        with torch.inference_mode():
            scores, maps = self.scorer(error)
        return scores.numpy(), maps.numpy()
