"""The order_tracking network: a GRU over the event prefix, then a TabularNet head -> P10/P50/P90 hours to delivery.

Each event is its status embedding plus its time features; the GRU's output at the last event summarises the
history. The head (lepton_core's TabularNet) reads that summary, the "now" features and the order's encoded
columns, with the current status, the hour and weekday at now and the order's categories embedded. Quantiles are learnt with the pinball
loss on standardised log1p(hours) (quantiles commute with monotone maps) and sorted so they never cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from lepton_core.forecasting.model import pinball
from lepton_core.tabular import TabularNet
from lepton_logistics.regressor import MAERegressor
from lepton_logistics.tracking.features import CLOCK_CARDINALITIES

QUANTILES = (0.1, 0.5, 0.9)


class RemainingTimeModel(MAERegressor):
    """``forward(seq_status, seq_num, length, now_num, x_num, x_cat) -> (batch, 3)`` P10/P50/P90 hours (pure tensor ops);
    ``x_cat`` holds the hour and weekday at now, then the order's category codes."""

    def __init__(
        self,
        n_statuses: int,
        n_seq_features: int,
        n_now_features: int,
        n_numeric: int,
        cardinalities: Sequence[int],
        embedding_dim: int = 8,
        hidden: int = 64,
        head: Sequence[int] = (128, 64),
        dropout: float = 0.05,
        lr: float = 3e-3,
        weight_decay: float = 1e-5,
        target_mean: float = 0.0,
        target_std: float = 1.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.status_embedding = nn.Embedding(n_statuses + 1, embedding_dim, padding_idx=0)
        self.gru = nn.GRU(embedding_dim + n_seq_features, hidden, batch_first=True)
        self.head = TabularNet(hidden + n_now_features + n_numeric, [n_statuses + 1, *CLOCK_CARDINALITIES, *cardinalities],
                               n_outputs=len(QUANTILES), hidden=tuple(head), dropout=dropout)
        self.register_buffer("quantiles", torch.tensor(QUANTILES))
        self.register_buffer("target_mean", torch.tensor(float(target_mean)))
        self.register_buffer("target_std", torch.tensor(float(target_std)))

    def scaled(self, seq_status: torch.Tensor, seq_num: torch.Tensor, length: torch.Tensor, now_num: torch.Tensor,
               x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Sorted quantiles of standardised log1p(hours)."""
        steps = torch.cat([self.status_embedding(seq_status), seq_num], dim=-1)
        outputs, _ = self.gru(steps)
        last = (length - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
        summary = outputs.gather(1, last).squeeze(1)
        current = seq_status.gather(1, (length - 1).clamp(min=0).view(-1, 1))
        raw = self.head(torch.cat([summary, now_num, x_num], dim=1), torch.cat([current, x_cat], dim=1))
        return torch.sort(raw, dim=1).values

    def forward(self, seq_status: torch.Tensor, seq_num: torch.Tensor, length: torch.Tensor, now_num: torch.Tensor,
                x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """P10/P50/P90 hours to delivery."""
        return self.hours(self.scaled(seq_status, seq_num, length, now_num, x_num, x_cat))

    def hours(self, scaled: torch.Tensor) -> torch.Tensor:
        """Standardised log1p units back to hours (0 to ~6 months)."""
        return torch.expm1(torch.clamp(scaled * self.target_std + self.target_mean, min=0.0, max=12.0))

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        *inputs, hours = batch
        scaled = self.scaled(*inputs)
        loss = pinball((torch.log1p(hours) - self.target_mean) / self.target_std, scaled, self.quantiles)
        return loss, (self.hours(scaled[:, 1]) - hours).abs().mean()
