"""Run a trained module over a dataloader and collect its outputs (inference mode, on the module's device)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["predict_loader"]


def _to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return batch


def predict_loader(
    module: torch.nn.Module,
    loader: Iterable[Any],
    forward: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Concatenate ``forward(module, batch)`` (default: ``module(batch[0])``) over ``loader``, on the CPU."""
    device = next(module.parameters(), torch.empty(0)).device
    forward = forward or (lambda m, b: m(b[0]))
    was_training = module.training
    module.eval()
    outputs = []
    with torch.inference_mode():
        for batch in loader:
            outputs.append(forward(module, _to(batch, device)).detach().float().cpu())
    module.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0)
