"""Baselines of the recommendation task: popularity, BPR matrix factorisation and LightGCN.

BPR-MF (Rendle et al., 2009) and LightGCN (He et al., 2020) are trained here with a plain torch loop:
dot-product scores, the BPR loss with one uniformly sampled negative per positive, L2 on the embeddings
of the batch, Adam. Each keeps the epoch with the best validation NDCG@k (the test split stays unseen),
so they get the same early stopping as the model.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from lepton_retail.recommendation.factors import bpr_loss, interaction_graph, propagate
from lepton_retail.recommendation.metrics import target_ranks

__all__ = ["BPRMFBaseline", "LightGCNBaseline", "PopularityBaseline"]


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


def validation_ndcg(score: Any, batches: Any, k: int) -> float:
    """NDCG@k of the validation items ranked among every item the user has not seen in training."""
    total, count = 0.0, 0
    with torch.inference_mode():
        for users, targets, exclude in batches:
            ranks = target_ranks(score(users), targets, exclude)
            total += float(torch.where(ranks < k, 1.0 / torch.log2(ranks.float() + 2), 0.0).sum())
            count += len(users)
    return total / max(count, 1)


def _dot_scores(vectors: torch.Tensor, n_users: int, users: torch.Tensor) -> torch.Tensor:
    """User vectors (rows ``users``) dotted with every item vector (rows ``n_users:``)."""
    return vectors[users] @ vectors[n_users:].T


class _FactorBaseline:
    """Embeddings trained with BPR, propagated over the training graph for ``layers`` steps (0: plain MF)."""

    name = "factors"
    layers = 0

    def __init__(
        self,
        hidden: int = 64,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        epochs: int = 20,
        batch_size: int = 2048,
        k: int = 10,
        seed: int = 0,
    ) -> None:
        self.hidden, self.lr, self.weight_decay = int(hidden), float(lr), float(weight_decay)
        self.epochs, self.batch_size, self.k, self.seed = int(epochs), int(batch_size), int(k), int(seed)

    def fit(self, datamodule: Any) -> _FactorBaseline:
        """Train for ``epochs`` and keep the embeddings of the epoch with the best validation NDCG@k."""
        generator = torch.Generator().manual_seed(self.seed)
        n_users, n_items = datamodule.n_users, datamodule.n_items
        embeddings = nn.Embedding(n_users + n_items, self.hidden)
        nn.init.normal_(embeddings.weight, std=0.1, generator=generator)
        graph = interaction_graph(*datamodule.train_pairs, n_users, n_items) if self.layers else None
        users, items = (torch.from_numpy(a.astype(np.int64)) for a in datamodule.train_pairs)
        optimiser = torch.optim.Adam(embeddings.parameters(), lr=self.lr)

        def vectors() -> torch.Tensor:
            return propagate(graph, embeddings.weight, self.layers) if graph is not None else embeddings.weight

        self.best_ndcg, self.best_epoch, self.vectors = -1.0, -1, vectors().detach().clone()
        for epoch in range(self.epochs):
            order = torch.randperm(len(users), generator=generator)
            for start in range(0, len(users), self.batch_size):
                chosen = order[start : start + self.batch_size]
                u, p = users[chosen], items[chosen] + n_users
                n = torch.randint(0, n_items, (len(chosen),), generator=generator) + n_users
                table = vectors()
                ego = embeddings.weight
                l2 = (ego[u].pow(2).sum() + ego[p].pow(2).sum() + ego[n].pow(2).sum()) / len(chosen)
                loss = bpr_loss(table[u], table[p], table[n]) + self.weight_decay * l2
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            with torch.no_grad():
                current = vectors().detach().clone()
            ndcg = validation_ndcg(partial(_dot_scores, current, n_users), datamodule.val_dataloader(), self.k)
            if ndcg > self.best_ndcg:
                self.best_ndcg, self.best_epoch, self.vectors = ndcg, epoch, current
        self.n_users = n_users
        return self

    def predict(self, users: torch.Tensor) -> torch.Tensor:
        """Dot-product scores of every item for each user, shape (batch, n_items)."""
        return _dot_scores(self.vectors, self.n_users, users)


class BPRMFBaseline(_FactorBaseline):
    """Matrix factorisation trained with the BPR loss."""

    name = "bpr_mf"
    layers = 0


class LightGCNBaseline(_FactorBaseline):
    """LightGCN: embeddings averaged over ``layers`` steps of propagation on the training graph, BPR loss."""

    name = "lightgcn"

    def __init__(self, layers: int = 3, **options: Any) -> None:
        super().__init__(**options)
        self.layers = int(layers)
