"""Convolutional (variational) autoencoders trained on normal images; anomalies are what they cannot rebuild."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from lepton_core import ConfigError
from lepton_manufacturing.defects.anomaly_maps import AnomalyScorer

__all__ = ["SurfaceAutoencoder"]


def _down(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def _up(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class SurfaceAutoencoder(L.LightningModule):
    """A convolutional VAE (``variational=True``, default) or plain autoencoder over images in 0..1.

    Four stride-2 convolutions bring the image to 1/16 of its side, a dense bottleneck of ``latent_dim``
    values forces the network to learn what normal parts look like, and mirrored transposed convolutions
    rebuild it. The loss is the per-pixel mean squared error plus ``beta`` x the KL divergence per pixel.
    ``forward`` (what the bundle runs) reconstructs from the latent mean and returns
    ``(image scores, heatmaps)`` from the per-pixel squared error.
    """

    def __init__(
        self,
        channels: int = 3,
        image_size: int = 64,
        variational: bool = True,
        base_channels: int = 32,
        latent_dim: int = 128,
        beta: float = 0.001,
        smoothing_sigma: float = 2.0,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size % 16 or image_size < 32:
            raise ConfigError(f"image size {image_size} is not a multiple of 16 of at least 32", "set data.image_size=64 (or 128, 256)")
        self.save_hyperparameters()
        widths = [base_channels, base_channels * 2, base_channels * 4, base_channels * 4]
        self.side = image_size // 16
        flat = widths[-1] * self.side * self.side
        self.encoder = nn.Sequential(*(_down(a, b) for a, b in zip([channels, *widths[:-1]], widths)), nn.Flatten())
        self.to_latent = nn.Linear(flat, latent_dim * (2 if variational else 1))
        self.from_latent = nn.Linear(latent_dim, flat)
        ups = [_up(a, b) for a, b in zip(widths[::-1][:-1], widths[::-1][1:])]
        self.decoder = nn.Sequential(*ups, nn.ConvTranspose2d(widths[0], channels, 4, stride=2, padding=1), nn.Sigmoid())
        self.scorer = AnomalyScorer(smoothing_sigma)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent mean and log-variance (zeros for the plain autoencoder)."""
        code = self.to_latent(self.encoder(x))
        if not self.hparams.variational:
            return code, torch.zeros_like(code)
        mean, log_var = code.chunk(2, dim=1)
        return mean, log_var.clamp(-10.0, 10.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in 0..1 from latent codes."""
        side, width = self.side, self.hparams.base_channels * 4
        return self.decoder(self.from_latent(z).view(-1, width, side, side))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction (from the latent mean)."""
        return self.decode(self.encode(x)[0])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (batch, C, H, W) in 0..1 -> (anomaly scores (batch,), heatmaps (batch, H, W))."""
        return self.scorer((x - self.reconstruct(x)) ** 2)

    def _loss(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encode(x)
        if self.hparams.variational and self.training:
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        else:
            z = mean
        pixels = x[0].numel()
        recon = nn.functional.mse_loss(self.decode(z), x, reduction="sum") / x.shape[0] / pixels
        if not self.hparams.variational:
            return recon, recon
        kl = -0.5 * torch.mean(torch.sum(1 + log_var - mean**2 - log_var.exp(), dim=1))
        return recon + self.hparams.beta * kl / pixels, recon

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, recon = self._loss(batch[0])
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_recon", recon)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, recon = self._loss(batch[0])
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_recon", recon, prog_bar=True)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        epochs = max(1, int(self.trainer.max_epochs or 1)) if self._trainer is not None else 1
        return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)}
