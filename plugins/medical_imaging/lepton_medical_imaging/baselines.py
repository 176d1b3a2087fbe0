"""The classical reference: logistic regression on downsampled pixels and on their sorted values."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["PixelLogisticBaseline"]


class PixelLogisticBaseline:
    """Multinomial logistic regression on images average-pooled to ``pixels x pixels``, standardised.

    With ``sorted_values`` the features also hold each channel's pooled values sorted (the image's intensity
    distribution at that scale): a finding that can sit anywhere moves the pixels a linear model weighs,
    but not the top of that distribution, so the baseline learns a lesion at a random position too.
    """

    name = "logistic_pixels"

    def __init__(self, pixels: int = 16, c: float = 0.1, max_iter: int = 1000, sorted_values: bool = True) -> None:
        self.pixels, self.c, self.max_iter, self.sorted_values = int(pixels), float(c), int(max_iter), bool(sorted_values)

    def features(self, images: torch.Tensor) -> np.ndarray:
        """uint8 ``(N, C, H, W)`` -> ``(N, C * pixels * pixels)`` floats in 0..1, twice that with sorted values."""
        pooled = torch.nn.functional.adaptive_avg_pool2d(images.float() / 255.0, self.pixels).flatten(2)
        parts = [pooled, torch.sort(pooled, dim=2).values] if self.sorted_values else [pooled]
        return torch.cat(parts, dim=2).flatten(1).numpy()

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
