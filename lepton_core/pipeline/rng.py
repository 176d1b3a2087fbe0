"""Random state in checkpoints: a resumed fit draws the same dropout masks and random numbers as an uninterrupted one."""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch

__all__ = ["RandomStateCheckpoint", "get_random_state", "set_random_state"]


def get_random_state() -> dict[str, Any]:
    """The global Python, NumPy and torch (CPU, and CUDA when initialised) random states, as plain values and tensors."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict[str, Any]) -> None:
    """Restore what ``get_random_state`` returned (CUDA states only where CUDA is available)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    saved = state["numpy"]
    keys = saved["keys"].numpy().astype(np.uint32)
    np.random.set_state((saved["name"], keys, saved["position"], saved["has_gauss"], saved["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["torch_cuda"]])


class RandomStateCheckpoint(L.Callback):
    """Saves the global random states in every checkpoint and restores them when a fit resumes from one.

    The states are taken when the checkpoint is written (the end of an epoch) and set back at the start of the
    resumed fit, right before its first epoch: whatever ran in between (building the model, fitting
    baselines) leaves no trace in the draws of dropout, augmentation or a DataLoader's shuffle seed. The
    datamodules' own loaders seed their order from the epoch number, so the resumed epoch sees the same
    batches too. Under DDP every rank starts from the saved rank-0 state (ranks share one seed).
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        """The random states at the time the checkpoint is written."""
        return get_random_state()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Keep the checkpoint's states until the resumed fit starts."""
        self._pending = dict(state_dict)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Set the saved states back, once, when the fit resumed from a checkpoint."""
        if self._pending is not None:
            set_random_state(self._pending)
            self._pending = None
