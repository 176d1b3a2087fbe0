"""The velocity network: one MLP over every SKU's recent picks, forecasting its picks over the next horizon."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from lepton_logistics.regressor import MAERegressor


class VelocityForecaster(MAERegressor):
    """``forward(log1p picks per period, (batch, input_periods)) -> expected picks over the horizon (batch,)``.

    Trained with the Poisson loss on counts (a log-rate output), so slow movers and fast movers share one model;
    the window's mean level times the horizon is the starting point, the network learns trends and launches on top of it.
    """

    def __init__(self, input_periods: int, horizon_periods: int = 1, hidden: int = 64, n_layers: int = 2,
                 dropout: float = 0.05, lr: float = 3e-3, weight_decay: float = 1e-5) -> None:
        super().__init__()
        self.save_hyperparameters()
        layers: list[nn.Module] = []
        width = input_periods + 1
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self.register_buffer("log_horizon", torch.tensor(math.log(horizon_periods)))

    def log_rate(self, history: torch.Tensor) -> torch.Tensor:
        """Log of the expected horizon picks."""
        level = torch.log(torch.expm1(history).clamp(min=0).mean(dim=1, keepdim=True) + 0.05)
        features = torch.cat([history, level], dim=1)
        return self.net(features).squeeze(1) + level.squeeze(1) + self.log_horizon

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        """Expected picks over the horizon (pure tensor ops)."""
        return torch.exp(self.log_rate(history).clamp(max=20.0))

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        history, target = batch
        log_rate = self.log_rate(history)
        loss = nn.functional.poisson_nll_loss(log_rate, target, log_input=True, full=False)
        mae = (torch.exp(log_rate.clamp(max=20.0)) - target).abs().mean()
        return loss, mae
