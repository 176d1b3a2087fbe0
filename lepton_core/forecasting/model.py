"""A global neural forecaster: a small ensemble of MLPs (N-BEATS-style residual blocks) over lag windows of every series.

Each window is scaled on its own (location = mean of the observed history, scale = its standard
deviation, floored at 10% of its mean absolute value; a window whose history is all zero is scaled by
1), so series of any level share one model. Inputs: the scaled history and its observed-mask, the
standardised covariates over history and horizon, and the calendar features of the first forecast
step. The output is one value per horizon step and quantile, sorted along the quantiles so they never
cross, plus a linear skip from the history (a learned "seasonal naive / trend" path). Training
minimises the pinball loss averaged over quantiles, in scaled units so every series weighs the same.
Tasks using it set the root config key ``cpu_threads: 1``: for matrices this small, more CPU threads
mostly spin, and on a shared machine they make each step many times slower.

``nonnegative=True`` clips forecasts at zero (counts, sales, volumes).
``forward`` is pure tensor code in original units: it is what bundles run and ONNX exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from lepton_core.data.inference import predict_loader
from lepton_core.errors import ConfigError

__all__ = ["GlobalForecaster", "forecast_windows", "pinball"]


def pinball(target: torch.Tensor, predicted: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss of ``predicted`` (..., Q) against ``target`` (...) over quantile levels ``quantiles`` (Q)."""
    diff = target.unsqueeze(-1) - predicted
    return torch.maximum(quantiles * diff, (quantiles - 1) * diff).mean()


class ResidualBlock(nn.Module):
    """LayerNorm -> Linear -> ReLU -> Dropout -> Linear, added to its input."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + f(x)."""
        return x + self.net(x)


class ForecastMember(nn.Module):
    """One network of the ensemble: residual MLP head plus a linear skip from the scaled history."""

    def __init__(
        self, in_features: int, input_size: int, horizon: int, n_quantiles: int, hidden: int, n_blocks: int, dropout: float, season: int
    ) -> None:
        super().__init__()
        self.horizon, self.n_quantiles = horizon, n_quantiles
        self.encoder = nn.Linear(in_features, hidden)
        self.blocks = nn.Sequential(*(ResidualBlock(hidden, dropout) for _ in range(n_blocks)))
        self.head = nn.Sequential(nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, horizon * n_quantiles))
        self.skip = nn.Linear(input_size, horizon)
        self._start_at_seasonal_naive(season if 1 <= season <= input_size else 1, input_size)

    def _start_at_seasonal_naive(self, season: int, input_size: int) -> None:
        """Initialise the skip path to the seasonal naive forecast and the head to zero."""
        with torch.no_grad():
            self.skip.weight.zero_()
            self.skip.bias.zero_()
            for step in range(self.horizon):
                self.skip.weight[step, input_size - season + step % season] = 1.0
            self.head[-1].weight.zero_()
            self.head[-1].bias.zero_()

    def forward(self, features: torch.Tensor, scaled: torch.Tensor) -> torch.Tensor:
        """Scaled quantile forecasts (batch, horizon, Q), sorted along the quantiles."""
        out = self.head(self.blocks(self.encoder(features))).view(-1, self.horizon, self.n_quantiles)
        return torch.sort(out + self.skip(scaled).unsqueeze(-1), dim=-1).values


class GlobalForecaster(L.LightningModule):
    """Quantile forecasts of the next ``horizon`` steps from the last ``input_size`` values of any series."""

    def __init__(
        self,
        input_size: int,
        horizon: int,
        n_covariates: int = 0,
        n_calendar: int = 0,
        season_length: int = 1,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        hidden: int = 128,
        n_blocks: int = 3,
        dropout: float = 0.2,
        n_members: int = 5,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        nonnegative: bool = False,
    ) -> None:
        super().__init__()
        levels = sorted(float(q) for q in quantiles)
        if 0.5 not in levels or not all(0 < q < 1 for q in levels):
            raise ConfigError(f"model.quantiles={list(quantiles)} must lie in (0, 1) and include 0.5", "e.g. [0.1, 0.5, 0.9]")
        self.save_hyperparameters()
        self.input_size, self.horizon, self.n_quantiles = int(input_size), int(horizon), len(levels)
        self.median_index = levels.index(0.5)
        self.register_buffer("quantile_levels", torch.tensor(levels), persistent=False)
        in_features = 2 * input_size + (input_size + horizon) * n_covariates + n_calendar
        self.members = nn.ModuleList(
            ForecastMember(in_features, input_size, horizon, self.n_quantiles, hidden, n_blocks, dropout, int(season_length))
            for _ in range(int(n_members))
        )

    @staticmethod
    def window_scale(history: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Location and scale of each window's observed history, shape (batch, 1) each."""
        count = mask.sum(1, keepdim=True).clamp_min(1.0)
        loc = (history * mask).sum(1, keepdim=True) / count
        std = torch.sqrt((((history - loc) * mask) ** 2).sum(1, keepdim=True) / count)
        mean_abs = (history.abs() * mask).sum(1, keepdim=True) / count
        scale = torch.maximum(std, 0.1 * mean_abs)
        return loc, torch.where(mean_abs > 0, scale, torch.ones_like(scale))

    def member_forward(
        self, history: torch.Tensor, mask: torch.Tensor, covariates: torch.Tensor, calendar: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each member's scaled quantile forecasts (members, batch, horizon, Q), with the windows' location and scale."""
        loc, scale = self.window_scale(history, mask)
        scaled = (history - loc) / scale * mask
        features = torch.cat([scaled, mask, covariates.flatten(1), calendar], dim=1)
        return torch.stack([member(features, scaled) for member in self.members]), loc, scale

    def scaled_forward(
        self, history: torch.Tensor, mask: torch.Tensor, covariates: torch.Tensor, calendar: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The ensemble's scaled quantile forecasts (batch, horizon, Q): the mean of the members' sorted quantiles."""
        outs, loc, scale = self.member_forward(history, mask, covariates, calendar)
        return outs.mean(0), loc, scale

    def forward(
        self, history: torch.Tensor, mask: torch.Tensor, covariates: torch.Tensor, calendar: torch.Tensor
    ) -> torch.Tensor:
        """Quantile forecasts in original units, shape (batch, horizon, Q)."""
        out, loc, scale = self.scaled_forward(history, mask, covariates, calendar)
        forecast = loc.unsqueeze(-1) + scale.unsqueeze(-1) * out
        return torch.clamp(forecast, min=0.0) if self.hparams.nonnegative else forecast

    def _loss(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        history, mask, covariates, calendar, target = batch
        outs, loc, scale = self.member_forward(history, mask, covariates, calendar)
        return pinball(((target - loc) / scale).unsqueeze(0).expand(outs.shape[:-1]), outs, self.quantile_levels)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", self._loss(batch), prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)


def forecast_windows(model: GlobalForecaster, inputs: Sequence[torch.Tensor], batch_size: int = 4096) -> np.ndarray:
    """Quantile forecasts (windows, horizon, Q) in original units for a tuple of model inputs."""
    from lepton_core.data.tensor_batches import TensorBatchLoader

    if inputs[0].shape[0] == 0:
        return np.zeros((0, model.horizon, model.n_quantiles))
    loader = TensorBatchLoader(*inputs, batch_size=batch_size)
    return predict_loader(model, loader, forward=lambda m, b: m(*b)).numpy().astype(np.float64)
