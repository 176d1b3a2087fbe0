"""RiskClassifier: a TabularNet emitting one logit, trained with class-weighted binary cross-entropy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision

from lepton_core.data.inference import predict_loader
from lepton_core.errors import ConfigError
from lepton_core.tabular.network import TabularNet

__all__ = ["RiskClassifier", "net_logits", "positive_weight"]


def net_logits(model: torch.nn.Module, loader: Any) -> np.ndarray:
    """The model's logits over a loader of (x_num, x_cat, y) batches."""
    return predict_loader(model, loader, forward=lambda m, b: m(b[0], b[1]).reshape(-1)).numpy().astype(np.float64)


def positive_weight(class_weight: str | float, positive_rate: float) -> float:
    """Loss weight of positives: ``balanced`` (neg/pos), ``sqrt`` (its square root), ``none`` (1) or a number."""
    ratio = (1 - positive_rate) / max(positive_rate, 1e-9)
    if isinstance(class_weight, (int, float)) and not isinstance(class_weight, bool):
        if class_weight <= 0:
            raise ConfigError(f"model.class_weight={class_weight} must be positive", "use balanced, sqrt, none or > 0")
        return float(class_weight)
    rules = {"balanced": ratio, "sqrt": math.sqrt(ratio), "none": 1.0}
    if class_weight not in rules:
        raise ConfigError(f"unknown model.class_weight '{class_weight}'", "use balanced, sqrt, none or a number")
    return float(rules[class_weight])


class RiskClassifier(L.LightningModule):
    """Wraps a TabularNet; logs val_loss, val_roc_auc and val_pr_auc; AdamW with a one-cycle learning rate."""

    def __init__(
        self,
        n_numeric: int,
        cardinalities: Sequence[int],
        positive_rate: float = 0.5,
        hidden: Sequence[int] = (128, 64),
        dropout: float = 0.3,
        max_embedding_dim: int = 16,
        linear_skip: bool = True,
        ensemble: int = 1,
        numeric_embedding: int = 0,
        quantile_bins: int = 0,
        class_weight: str | float = "balanced",
        lr: float = 0.003,
        weight_decay: float = 0.05,
        linear_lr_factor: float = 10.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = TabularNet(
            n_numeric, cardinalities, n_outputs=1, hidden=tuple(hidden), dropout=dropout,
            max_embedding_dim=max_embedding_dim, linear_skip=linear_skip, ensemble=ensemble,
            numeric_embedding=numeric_embedding, quantile_bins=quantile_bins,
        )
        self.register_buffer("pos_weight", torch.tensor(positive_weight(class_weight, positive_rate)))
        self.val_auc = BinaryAUROC()
        self.val_ap = BinaryAveragePrecision()

    def net_kwargs(self) -> dict[str, Any]:
        """The plain constructor arguments of ``self.net`` (a bundle's ``model_kwargs`` for ``TabularNet``)."""
        hp = self.hparams
        return {
            "n_numeric": int(hp.n_numeric),
            "cardinalities": [int(c) for c in hp.cardinalities],
            "n_outputs": 1,
            "hidden": [int(h) for h in hp.hidden],
            "dropout": float(hp.dropout),
            "max_embedding_dim": int(hp.max_embedding_dim),
            "linear_skip": bool(hp.linear_skip),
            "ensemble": int(hp.get("ensemble", 1)),
            "numeric_embedding": int(hp.get("numeric_embedding", 0)),
            "quantile_bins": int(hp.get("quantile_bins", 0)),
        }

    def setup(self, stage: str) -> None:
        """Before fitting (and before DDP copies the model to every rank): fit the network's input quantiles."""
        if stage != "fit" or self.net.quantiles is None:
            return
        tensors = getattr(self.trainer.datamodule, "tensors", None) or {}
        if "train" not in tensors:
            raise ConfigError(
                "model.quantile_bins needs a datamodule holding its training tensors (a TabularDataModule)",
                "set model.quantile_bins=0",
            )
        self.net.fit_quantiles(tensors["train"][0])

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """Logits of shape (batch,)."""
        return self.net(x_num, x_cat).squeeze(-1)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x_num, x_cat, y = batch
        members = self.net.forward_members(x_num, self.net.embed(x_cat)).squeeze(-1)  # (batch, k)
        loss = self._loss(members, y.unsqueeze(1).expand_as(members))  # every member fits on its own (TabM)
        if batch_idx % self.trainer.log_every_n_steps == 0:  # each self.log costs about as much as a small step
            self.log("train_loss", loss, prog_bar=True, batch_size=len(y))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x_num, x_cat, y = batch
        logits = self(x_num, x_cat)
        self.log("val_loss", self._loss(logits, y), prog_bar=True, batch_size=len(y))
        self.val_auc.update(logits, y.long())
        self.val_ap.update(logits, y.long())

    def on_validation_epoch_end(self) -> None:
        self.log("val_roc_auc", self.val_auc.compute(), prog_bar=True)
        self.log("val_pr_auc", self.val_ap.compute(), prog_bar=True)
        self.val_auc.reset()
        self.val_ap.reset()

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The linear path and embeddings at ``lr * linear_lr_factor``, the MLP at ``lr``.

        A linear effect learns slowly through the embedding-times-weight product, while the MLP learns
        (and on small tables overfits) fast; the factor lets the linear part converge in the same epochs.
        """
        fast = [p for name, p in self.net.named_parameters() if name.startswith(("skip.", "embeddings."))]
        fast_ids = {id(p) for p in fast}
        slow = [p for p in self.net.parameters() if id(p) not in fast_ids]
        lr = self.hparams.lr
        return [{"params": fast, "lr": lr * self.hparams.linear_lr_factor}, {"params": slow, "lr": lr}]

    def configure_optimizers(self) -> Any:
        groups = self.parameter_groups()
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        steps = self.trainer.estimated_stepping_batches
        if not steps or math.isinf(steps):
            return optimizer
        peaks = [group["lr"] for group in groups]
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=int(steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
