"""Remaining-useful-life networks: a GRU or LSTM over the window (default GRU), or a 1D CNN."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from lepton_core import ConfigError

__all__ = ["RULNet"]

CELLS = ("gru", "lstm", "cnn")


class _ConvEncoder(nn.Module):
    """Dilated 1D convolutions over time, then the mean over time."""

    def __init__(self, n_channels: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_channels
        for layer in range(num_layers):
            layers += [nn.Conv1d(width, hidden_size, 3, padding=2**layer, dilation=2**layer), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_size
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).mean(dim=2)


class RULNet(L.LightningModule):
    """Window (batch, window, channels) of normalised readings -> remaining useful life in cycles.

    Trained on RUL / ``rul_cap`` with mean squared error; ``forward`` returns cycles clamped to
    [0, rul_cap], the value both the evaluation and the deployed predictor report.
    """

    def __init__(
        self,
        n_channels: int,
        window: int,
        rul_cap: float = 125.0,
        cell: str = "gru",
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ConfigError(f"unknown model.cell '{cell}'", f"use one of {', '.join(CELLS)}")
        self.save_hyperparameters()
        if cell == "cnn":
            self.encoder: nn.Module = _ConvEncoder(n_channels, hidden_size, num_layers, dropout)
        else:
            recurrent = nn.GRU if cell == "gru" else nn.LSTM
            self.encoder = recurrent(
                n_channels, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
            )
        self.head = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1))

    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        """Unclamped prediction of RUL / rul_cap, shape (batch,)."""
        if self.hparams.cell == "cnn":
            summary = self.encoder(x)
        else:
            summary = self.encoder(x)[0][:, -1]
        return self.head(summary).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted remaining useful life in cycles, shape (batch,)."""
        cap = float(self.hparams.rul_cap)
        return torch.clamp(self.scaled(x) * cap, 0.0, cap)

    def _loss(self, batch: Any) -> torch.Tensor:
        x, y = batch
        return nn.functional.mse_loss(self.scaled(x), y / float(self.hparams.rul_cap))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", self._loss(batch), prog_bar=True)
        self.log("val_rmse", torch.sqrt(nn.functional.mse_loss(self(x), y)), prog_bar=True)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        epochs = max(1, int(self.trainer.max_epochs or 1)) if self._trainer is not None else 1
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return {"optimizer": optimizer, "lr_scheduler": schedule}
