"""The example's network and its logistic-regression baseline."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn


class MoonsClassifier(L.LightningModule):
    """A small MLP emitting one logit; ``dropout`` > 0 adds dropout after each hidden layer (draws from torch's RNG)."""

    def __init__(self, n_features: int = 2, hidden: int = 32, lr: float = 0.02, dropout: float = 0.0) -> None:
        super().__init__()
        self.save_hyperparameters()
        def activation() -> nn.Module:  # parameter-free, so the weights keep their names (net.0, net.2, net.4)
            return nn.Sequential(nn.ReLU(), nn.Dropout(dropout))

        self.net = nn.Sequential(
            nn.Linear(n_features, hidden), activation(), nn.Linear(hidden, hidden), activation(), nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (batch,)."""
        return self.net(x).squeeze(-1)

    def _loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return nn.functional.binary_cross_entropy_with_logits(self(x), y)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", self._loss(batch), prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class LogisticBaseline:
    """Logistic regression on the standardised features."""

    name = "logistic"

    def fit(self, datamodule: Any) -> LogisticBaseline:
        from sklearn.linear_model import LogisticRegression

        x, y = datamodule.splits["train"]
        self.model = LogisticRegression().fit(x.numpy(), y.numpy())
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Positive-class probabilities."""
        return self.model.predict_proba(inputs)[:, 1]
