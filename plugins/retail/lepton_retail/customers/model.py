"""The customer sequence model: a GRU over each customer's purchases with a zero-inflated lognormal head.

The GRU reads the last ``max_events`` purchase days (gap, amount, time before the cut-off, day of the
year, category), its final state joins the customer's static summary (recency, age, frequency, spend),
and an MLP outputs three numbers per customer: the logit of buying at all in the holdout window, and
the mean and log-scale of the lognormal spend given a purchase (ZILN, Wang, Liu & Miao 2019). Churn is
1 - P(buy); expected CLV is P(buy) x exp(mu + sigma^2 / 2). The loss is the binary cross-entropy of
buying plus the lognormal negative log-likelihood of the spend of buyers.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn

__all__ = ["CustomerSequenceModel", "ziln_loss"]


def ziln_loss(outputs: torch.Tensor, spend: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(purchase BCE, lognormal NLL of buyers' spend) from raw outputs (logit, mu, log sigma) in log-spend units."""
    bought = (spend > 0).float()
    bce = nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], bought)
    mu, log_sigma = outputs[:, 1], outputs[:, 2]
    log_spend = torch.log(spend.clamp_min(0.01))
    nll = log_sigma + 0.5 * ((log_spend - mu) / log_sigma.exp()) ** 2 + 0.5 * math.log(2 * math.pi)
    return bce, (nll * bought).sum() / bought.sum().clamp_min(1.0)


class CustomerSequenceModel(L.LightningModule):
    """GRU over purchase events + static summary -> P(churn) and expected spend over the holdout window."""

    def __init__(
        self,
        n_event_features: int,
        n_static_features: int,
        n_categories: int = 0,
        clv_log_mean: float = 0.0,
        clv_log_std: float = 1.0,
        hidden: int = 32,
        category_dim: int = 4,
        dropout: float = 0.1,
        lr: float = 0.003,
        weight_decay: float = 0.0001,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.category = nn.Embedding(n_categories + 1, category_dim) if n_categories else None
        width = n_event_features + (category_dim if n_categories else 0)
        self.gru = nn.GRU(width, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden + n_static_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 3)
        )

    def raw(self, events: torch.Tensor, categories: torch.Tensor, statics: torch.Tensor) -> torch.Tensor:
        """(batch, 3): purchase logit, mu and log sigma of log-spend."""
        if self.category is not None:
            events = torch.cat([events, self.category(categories)], dim=-1)
        _, state = self.gru(events)
        out = self.head(torch.cat([state[-1], statics], dim=1))
        mean, std = self.hparams.clv_log_mean, self.hparams.clv_log_std
        return torch.stack([out[:, 0], mean + std * out[:, 1], math.log(std) + out[:, 2].clamp(-5, 3)], dim=1)

    def forward(self, events: torch.Tensor, categories: torch.Tensor, statics: torch.Tensor) -> torch.Tensor:
        """(batch, 2): probability of no purchase in the window, expected spend in it."""
        raw = self.raw(events, categories, statics)
        buy = torch.sigmoid(raw[:, 0])
        return torch.stack([1 - buy, buy * torch.exp(raw[:, 1] + 0.5 * torch.exp(2 * raw[:, 2]))], dim=1)

    def _loss(self, batch: Any, stage: str) -> torch.Tensor:
        events, categories, statics, _, spend = batch
        bce, nll = ziln_loss(self.raw(events, categories, statics), spend)
        loss = bce + nll
        size = len(spend)
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=size)
        self.log(f"{stage}_churn_bce", bce, batch_size=size)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._loss(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._loss(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
