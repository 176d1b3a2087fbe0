"""ReturnRiskNet: one asset's recent returns -> mean and log-variance of its next-period return (Gaussian NLL)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import nn

__all__ = ["PortfolioForecaster", "ReturnRiskNet", "gaussian_nll"]


def gaussian_nll(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of ``target`` under N(mean, exp(log_var)), without the constant."""
    return 0.5 * (log_var + (target - mean) ** 2 * torch.exp(-log_var)).mean()


class ReturnRiskNet(nn.Module):
    """An MLP shared by every asset: (batch, n_inputs) -> (batch, 2) = (mean, log-variance), both scaled."""

    def __init__(self, n_inputs: int, hidden: Sequence[int] = (64, 64), dropout: float = 0.1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_inputs
        for size in hidden:
            layers += [nn.Linear(width, int(size)), nn.GELU(), nn.Dropout(dropout)]
            width = int(size)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 2): the scaled mean and log-variance of the next-period return; log-variance clamped to [-8, 6]."""
        out = self.head(self.body(x))
        return torch.stack([out[:, 0], out[:, 1].clamp(-8.0, 6.0)], dim=1)


class PortfolioForecaster(L.LightningModule):
    """Trains ReturnRiskNet with the Gaussian NLL; logs val_nll (mean and variance judged together)."""

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int] = (64, 64),
        dropout: float = 0.1,
        lr: float = 0.002,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = ReturnRiskNet(n_inputs, tuple(hidden), dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 2) scaled mean and log-variance."""
        return self.net(x)

    def _nll(self, batch: Any) -> torch.Tensor:
        x, y = batch
        out = self(x)
        return gaussian_nll(out[:, 0], out[:, 1], y)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._nll(batch)
        if batch_idx % self.trainer.log_every_n_steps == 0:
            self.log("train_nll", loss, prog_bar=True, batch_size=len(batch[1]))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_nll", self._nll(batch), prog_bar=True, batch_size=len(batch[1]))

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        steps = self.trainer.estimated_stepping_batches
        if not steps or math.isinf(steps):
            return optimizer
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.hparams.lr, total_steps=int(steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
