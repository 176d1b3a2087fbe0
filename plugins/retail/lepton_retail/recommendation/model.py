"""The recommender network: user and item embeddings (optionally LightGCN-propagated) trained with a
sampled-softmax or BPR loss.

The module also carries, as buffers, what serving needs without the training data: the training
popularity (scores of an unknown user), every user's seen items as a CSR pair (excluded from
recommendations) and, with ``layers > 0``, the propagated user and item vectors (refreshed before each
validation, so a checkpoint holds the vectors it was scored with). ``forward(users, known)`` is pure
tensor code: known users get their factor scores, unknown ones the popularity scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from lepton_retail.recommendation.factors import bpr_loss, interaction_graph, propagate, sampled_softmax_loss
from lepton_retail.recommendation.metrics import target_ranks

__all__ = ["FactorRecommender"]

LOSSES = ("softmax", "bpr")


class FactorRecommender(L.LightningModule):
    """User and item embeddings of size ``hidden``, propagated over the training graph for ``layers`` steps.

    ``loss="softmax"``: each positive competes with ``n_negatives`` uniformly sampled items shared by the
    batch, on cosine similarity / ``temperature``; ``loss="bpr"``: one sampled negative per positive, on dot
    products. ``item_bias`` adds a learned per-item term (how much popularity explains). ``weight_decay`` is
    the L2 penalty on the embeddings of a batch.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        n_seen: int = 0,
        hidden: int = 64,
        layers: int = 0,
        loss: str = "softmax",
        n_negatives: int = 256,
        temperature: float = 0.2,
        item_bias: bool = True,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        k: int = 10,
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            from lepton_core.errors import ConfigError

            raise ConfigError(f"model.loss={loss!r} is not one of {', '.join(LOSSES)}", "set model.loss=softmax or model.loss=bpr")
        self.save_hyperparameters()
        self.embeddings = nn.Embedding(n_users + n_items, hidden)
        nn.init.normal_(self.embeddings.weight, std=0.1)
        if item_bias:
            self.item_bias = nn.Parameter(torch.zeros(n_items))
        self.register_buffer("popularity", torch.zeros(n_items))
        self.register_buffer("seen_indptr", torch.zeros(n_users + 1, dtype=torch.long))
        self.register_buffer("seen_indices", torch.zeros(n_seen, dtype=torch.long))
        if layers > 0:
            self.register_buffer("vectors", torch.zeros(n_users + n_items, hidden))
        self.graph: torch.Tensor | None = None

    def set_catalogue(self, item_counts: np.ndarray, seen: Sequence[np.ndarray]) -> None:
        """Store the training popularity and every user's seen items (CSR) in the buffers."""
        self.popularity.copy_(torch.as_tensor(np.log1p(item_counts), dtype=torch.float32))
        lengths = torch.tensor([len(s) for s in seen], dtype=torch.long)
        self.seen_indptr.copy_(torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]))
        self.seen_indices.copy_(torch.as_tensor(np.concatenate(seen) if len(seen) else np.zeros(0), dtype=torch.long))

    def set_training_graph(self, users: np.ndarray, items: np.ndarray) -> None:
        """The graph LightGCN propagates over (training interactions only); unused with ``layers=0``."""
        if self.hparams.layers > 0:
            self.graph = interaction_graph(users, items, self.hparams.n_users, self.hparams.n_items)

    def seen_items(self, user: int) -> torch.Tensor:
        """Item indices a user has interacted with."""
        return self.seen_indices[self.seen_indptr[user] : self.seen_indptr[user + 1]]

    def _propagated(self) -> torch.Tensor:
        if self.hparams.layers == 0:
            return self.embeddings.weight
        if self.graph is None:
            raise RuntimeError("set_training_graph() must be called before training a model with layers > 0")
        if self.graph.device != self.device:
            self.graph = self.graph.to(self.device)
        return propagate(self.graph, self.embeddings.weight, self.hparams.layers)

    def _bias(self, items: torch.Tensor) -> torch.Tensor | None:
        return self.item_bias[items] if self.hparams.item_bias else None

    def scores(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for each user, shape (batch, n_items): the training logits."""
        vectors = self.vectors if self.hparams.layers > 0 else self.embeddings.weight
        n_users = self.hparams.n_users
        user, item = vectors[users], vectors[n_users:]
        if self.hparams.loss == "softmax":
            user = nn.functional.normalize(user, dim=1) / self.hparams.temperature
            item = nn.functional.normalize(item, dim=1)
        scores = user @ item.T
        return scores + self.item_bias if self.hparams.item_bias else scores

    def forward(self, users: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """Scores (batch, n_items): factor scores for known users, popularity for unknown ones (known = 0)."""
        weight = known.float().unsqueeze(1)
        return weight * self.scores(users) + (1 - weight) * self.popularity.unsqueeze(0)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        users, positives = batch
        n_users, n_items = self.hparams.n_users, self.hparams.n_items
        vectors = self._propagated()
        if self.hparams.loss == "softmax":
            negatives = torch.randint(0, n_items, (self.hparams.n_negatives,), device=users.device)
            loss = sampled_softmax_loss(
                vectors[users], vectors[n_users + positives], vectors[n_users + negatives], self.hparams.temperature,
                self._bias(positives), self._bias(negatives),
            )
        else:
            negatives = torch.randint(0, n_items, (len(users),), device=users.device)
            offset = self.item_bias[positives] - self.item_bias[negatives] if self.hparams.item_bias else 0.0
            loss = bpr_loss(vectors[users], vectors[n_users + positives], vectors[n_users + negatives], offset)
        ego = self.embeddings.weight
        l2 = (ego[users].pow(2).sum() + ego[n_users + positives].pow(2).sum() + ego[n_users + negatives].pow(2).sum()) / len(users)
        self.log("train_loss", loss, prog_bar=True)
        return loss + self.hparams.weight_decay * l2

    def refresh_vectors(self) -> None:
        """Propagate the embeddings into the ``vectors`` buffer that scoring and serving use (``layers > 0``)."""
        if self.hparams.layers > 0:
            with torch.no_grad():
                self.vectors.copy_(self._propagated())

    def on_validation_epoch_start(self) -> None:
        self.refresh_vectors()

    def on_train_end(self) -> None:
        self.refresh_vectors()

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
