"""The Lightning steps the logistics regressors share: each defines ``_loss(batch) -> (loss, mae)``."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

__all__ = ["MAERegressor"]


class MAERegressor(L.LightningModule):
    """Logs train_loss, val_loss and val_mae from ``_loss``; AdamW (hparams lr, weight_decay), cosine over the epochs."""

    def _loss(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, mae = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_mae", mae, prog_bar=True)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        epochs = max(int(self.trainer.max_epochs or 1), 1)
        return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)}
