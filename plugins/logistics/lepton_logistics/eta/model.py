"""The eta network: a TabularNet emitting P50 and P90 delivery times, trained with the pinball loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from lepton_core.tabular import TabularNet
from lepton_logistics.regressor import MAERegressor

QUANTILES = (0.5, 0.9)


def pinball(prediction: torch.Tensor, target: torch.Tensor, quantiles: Sequence[float] = QUANTILES) -> torch.Tensor:
    """Mean pinball loss over the quantile columns of ``prediction`` (batch, n_quantiles)."""
    q = torch.tensor(quantiles, dtype=prediction.dtype, device=prediction.device)
    diff = target.unsqueeze(1) - prediction
    return torch.maximum(q * diff, (q - 1) * diff).mean()


class EtaRegressor(MAERegressor):
    """``forward(x_num, x_cat) -> (batch, 2)``: P50 and P90 in target units; P90 >= P50 by construction.

    With ``log_target`` (positive targets such as durations) the quantiles are learnt on log(y): quantiles
    commute with the logarithm, and multiplicative effects (speed, weather) become additive.
    """

    def __init__(
        self,
        n_numeric: int,
        cardinalities: Sequence[int],
        hidden: Sequence[int] = (128, 64),
        dropout: float = 0.05,
        lr: float = 3e-3,
        weight_decay: float = 1e-5,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        log_target: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = TabularNet(n_numeric, list(cardinalities), n_outputs=2, hidden=tuple(hidden), dropout=dropout)
        self.register_buffer("target_mean", torch.tensor(float(target_mean)))
        self.register_buffer("target_std", torch.tensor(float(target_std)))
        self.register_buffer("log_target", torch.tensor(float(log_target)))

    def scaled(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Quantiles in standardised target units."""
        raw = self.net(x_num, x_cat)
        p50 = raw[:, :1]
        return torch.cat([p50, p50 + nn.functional.softplus(raw[:, 1:2])], dim=1)

    def unscale(self, scaled: torch.Tensor) -> torch.Tensor:
        """Standardised (log) units back to target units."""
        value = scaled * self.target_std + self.target_mean
        return torch.where(self.log_target > 0, torch.exp(torch.clamp(value, max=30.0)), value)

    def target_scaled(self, y: torch.Tensor) -> torch.Tensor:
        """Target units to standardised (log) units."""
        value = torch.where(self.log_target > 0, torch.log(torch.clamp(y, min=1e-6)), y)
        return (value - self.target_mean) / self.target_std

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """P50 and P90 in target units (pure tensor ops, ONNX-exportable)."""
        return self.unscale(self.scaled(x_num, x_cat))

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x_num, x_cat, y = batch
        scaled = self.scaled(x_num, x_cat)
        loss = pinball(scaled, self.target_scaled(y))
        mae = (self.unscale(scaled[:, 0]) - y).abs().mean()
        return loss, mae
