"""The classical reference: logistic regression on downsampled pixels."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["PixelLogisticBaseline"]


class PixelLogisticBaseline:
    """Multinomial logistic regression on images average-pooled to ``pixels x pixels`` and standardised."""

    name = "logistic_pixels"

    def __init__(self, pixels: int = 16, c: float = 0.1, max_iter: int = 300) -> None:
        self.pixels, self.c, self.max_iter = int(pixels), float(c), int(max_iter)

    def features(self, images: torch.Tensor) -> np.ndarray:
        """uint8 ``(N, C, H, W)`` -> flattened ``(N, C * pixels * pixels)`` floats in 0..1."""
        pooled = torch.nn.functional.adaptive_avg_pool2d(images.float() / 255.0, self.pixels)
        return pooled.flatten(1).numpy()

    def fit(self, datamodule: Any) -> PixelLogisticBaseline:
        """Fit on the training split's uint8 images."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        images, labels = datamodule.splits["train"]
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=self.c, max_iter=self.max_iter))
        self.model.fit(self.features(images), labels.numpy())
        self.classes = self.model.classes_
        self.num_classes = len(datamodule.class_names)
        return self

    def predict(self, images: torch.Tensor) -> np.ndarray:
        """Class probabilities ``(N, num_classes)`` (zero for classes absent from training)."""
        probs = np.zeros((len(images), self.num_classes))
        probs[:, self.classes] = self.model.predict_proba(self.features(images))
        return probs
