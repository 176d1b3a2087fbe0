"""From per-pixel reconstruction errors to smoothed anomaly heatmaps and image scores (pure tensor ops)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AnomalyScorer", "gaussian_kernel"]


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 2-D Gaussian kernel of shape (1, 1, k, k), k = 2 * ceil(3 sigma) + 1 (identity when sigma <= 0)."""
    if sigma <= 0:
        return torch.ones(1, 1, 1, 1)
    radius = int(torch.ceil(torch.tensor(3.0 * sigma)).item())
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    line = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = torch.outer(line, line)
    return (kernel / kernel.sum()).view(1, 1, 2 * radius + 1, 2 * radius + 1)


class AnomalyScorer(nn.Module):
    """Squared error averaged over channels, Gaussian-smoothed into a heatmap; image score = heatmap maximum.

    Smoothing spreads single noisy pixels and keeps compact defects (scratches, spots) bright, so the
    maximum of the smoothed map ranks images better than the mean error.
    """

    def __init__(self, sigma: float = 2.0) -> None:
        super().__init__()
        self.register_buffer("kernel", gaussian_kernel(sigma), persistent=False)

    def heatmap(self, error: torch.Tensor) -> torch.Tensor:
        """(batch, C, H, W) per-pixel error -> (batch, H, W) smoothed heatmap."""
        pad = self.kernel.shape[-1] // 2
        mean_error = error.mean(dim=1, keepdim=True)
        if pad:
            mean_error = nn.functional.pad(mean_error, (pad, pad, pad, pad), mode="replicate")
        return nn.functional.conv2d(mean_error, self.kernel).squeeze(1)

    def forward(self, error: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(image scores (batch,), heatmaps (batch, H, W)) from per-pixel errors."""
        heat = self.heatmap(error)
        return heat.flatten(1).amax(dim=1), heat
