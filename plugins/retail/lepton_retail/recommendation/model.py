"""Matrix factorisation trained with the BPR loss, and the popularity baseline.

The module also carries, as buffers, what serving needs without the training data: the training
popularity (scores of an unknown user) and every user's seen items as a CSR pair (excluded from
recommendations). ``forward(users, known)`` is pure tensor code: known users get their factor scores,
unknown ones the popularity scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from lepton_retail.recommendation.metrics import target_ranks

__all__ = ["BPRRecommender", "PopularityBaseline"]


class BPRRecommender(L.LightningModule):
    """User and item factors of size ``hidden`` (+ item bias); each positive is contrasted with ``n_negatives``
    uniformly sampled items; ``weight_decay`` is the L2 penalty on the factors used in a batch."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        n_seen: int = 0,
        hidden: int = 64,
        lr: float = 0.01,
        weight_decay: float = 0.01,
        n_negatives: int = 4,
        k: int = 10,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.user_factors = nn.Embedding(n_users, hidden)
        self.item_factors = nn.Embedding(n_items, hidden)
        self.item_bias = nn.Embedding(n_items, 1)
        for table in (self.user_factors, self.item_factors):
            nn.init.normal_(table.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)
        self.register_buffer("popularity", torch.zeros(n_items))
        self.register_buffer("seen_indptr", torch.zeros(n_users + 1, dtype=torch.long))
        self.register_buffer("seen_indices", torch.zeros(n_seen, dtype=torch.long))

    def set_catalogue(self, item_counts: np.ndarray, seen: Sequence[np.ndarray]) -> None:
        """Store the training popularity and every user's seen items (CSR) in the buffers."""
        self.popularity.copy_(torch.as_tensor(np.log1p(item_counts), dtype=torch.float32))
        lengths = torch.tensor([len(s) for s in seen], dtype=torch.long)
        self.seen_indptr.copy_(torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]))
        self.seen_indices.copy_(torch.as_tensor(np.concatenate(seen) if len(seen) else np.zeros(0), dtype=torch.long))

    def seen_items(self, user: int) -> torch.Tensor:
        """Item indices a user has interacted with."""
        return self.seen_indices[self.seen_indptr[user] : self.seen_indptr[user + 1]]

    def scores(self, users: torch.Tensor) -> torch.Tensor:
        """Factor scores of every item for each user, shape (batch, n_items)."""
        return self.user_factors(users) @ self.item_factors.weight.T + self.item_bias.weight.T

    def forward(self, users: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """Scores (batch, n_items): factor scores for known users, popularity for unknown ones (known = 0)."""
        weight = known.float().unsqueeze(1)
        return weight * self.scores(users) + (1 - weight) * self.popularity.unsqueeze(0)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        users, positives = batch
        negatives = torch.randint(0, self.hparams.n_items, (len(users), self.hparams.n_negatives), device=users.device)
        u = self.user_factors(users)
        pos = (u * self.item_factors(positives)).sum(1) + self.item_bias(positives).squeeze(1)
        neg = (u.unsqueeze(1) * self.item_factors(negatives)).sum(2) + self.item_bias(negatives).squeeze(2)
        loss = -nn.functional.logsigmoid(pos.unsqueeze(1) - neg).mean()
        l2 = u.pow(2).sum(1).mean() + self.item_factors(positives).pow(2).sum(1).mean() + self.item_factors(negatives).pow(2).sum(2).mean()
        self.log("train_loss", loss, prog_bar=True)
        return loss + self.hparams.weight_decay * l2

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        users, targets, exclude = batch
        ranks = target_ranks(self.scores(users), targets, exclude)
        k = self.hparams.k
        hits = (ranks < k).float()
        ndcg = hits / torch.log2(ranks.float() + 2)
        self.log(f"val_hr{k}", hits.mean(), prog_bar=True, batch_size=len(users))
        self.log(f"val_ndcg{k}", ndcg.mean(), prog_bar=True, batch_size=len(users))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class PopularityBaseline:
    """Recommend the most interacted-with training items to everyone."""

    name = "popularity"

    def fit(self, datamodule: Any) -> PopularityBaseline:
        """Count training interactions per item."""
        self.counts = torch.as_tensor(datamodule.item_counts, dtype=torch.float32)
        return self

    def predict(self, users: torch.Tensor) -> torch.Tensor:
        """The same item scores for every user, shape (batch, n_items)."""
        return self.counts.unsqueeze(0).expand(len(users), -1)
