"""Gated-attention multiple-instance learning (Ilse, Tomczak and Welling, 2018) over a CNN tile encoder."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from lepton_medical_imaging.models import build_backbone

__all__ = ["GatedAttention", "PathologyMIL"]


class GatedAttention(nn.Module):
    """Attention weights over a bag: ``softmax(w^T (tanh(V h) * sigmoid(U h)))`` (Ilse et al., eq. 9)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.value, self.gate, self.score = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Weights ``(N,)`` summing to one for instance embeddings ``(N, dim)``."""
        scores = self.score(torch.tanh(self.value(h)) * torch.sigmoid(self.gate(h))).squeeze(-1)
        return torch.softmax(scores, dim=0)


class PathologyMIL(L.LightningModule):
    """Tile encoder (``model.arch`` backbone, its head a ``embedding_dim`` projection) -> gated attention -> logit.

    ``forward(tiles)`` maps one slide's normalised tiles ``(N, C, t, t)`` to ``(slide logit (1,), attention
    (N,))`` with tensor ops only, so the predictor and export share it. Training steps take several slides
    at once (``forward_bags``): the encoder's batch norm then sees tiles of several slides, as its running
    statistics (used at inference, one tile independent of the others) do. With one slide per step a tile
    would be normalised against its own slide, and the network could find a lesion through the other tiles.
    """

    def __init__(
        self,
        in_channels: int = 3,
        arch: str = "small_cnn",
        width: int = 8,
        embedding_dim: int = 64,
        attention_dim: int = 32,
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        weights_path: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.encoder = build_backbone(arch, embedding_dim, in_channels, weights_path, width)
        self.attention = GatedAttention(embedding_dim, attention_dim)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding_dim, 1))
        self.loss = nn.BCEWithLogitsLoss()

    def _pool(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.attention(h)
        return self.classifier(weights @ h).reshape(1), weights

    def forward(self, tiles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Slide logit ``(1,)`` and tile attention ``(N,)`` of one bag of tiles."""
        return self._pool(torch.relu(self.encoder(tiles)))

    def forward_bags(self, tiles: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        """Slide logits ``(B,)`` of bags stacked along the first axis (``sizes``: tiles of each bag)."""
        h = torch.relu(self.encoder(tiles))
        return torch.cat([self._pool(part)[0] for part in torch.split(h, sizes)])

    def _step(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        tiles, sizes, labels = batch
        logits = self.forward_bags(tiles, [int(n) for n in sizes])
        return self.loss(logits, labels.to(logits.dtype)), logits

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, _ = self._step(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch[1]))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits = self._step(batch)
        size = len(batch[1])
        self.log("val_loss", loss, prog_bar=True, batch_size=size)
        self.log("val_accuracy", ((logits > 0).float() == batch[2]).float().mean(), prog_bar=True, batch_size=size)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        epochs = max(int(getattr(self.trainer, "max_epochs", 1) or 1), 1)
        return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)}

    @torch.no_grad()
    def predict_bag(self, tiles: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Probability of tumour and attention ``(N,)`` of one normalised bag (eval mode, no gradients)."""
        was_training = self.training
        self.eval()
        parameter = next(self.parameters())
        logit, weights = self(tiles.to(parameter.device))
        self.train(was_training)
        return float(torch.sigmoid(logit)[0]), weights.cpu()
