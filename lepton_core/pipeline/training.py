"""Build the Lightning Trainer from the composed config and restore the best checkpoint after fit."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from lepton_core.hooks.specs import RunContext


def _instantiate_all(group: DictConfig | None) -> list[Any]:
    from hydra.utils import instantiate

    if not group:
        return []
    return [instantiate(c) for c in group.values() if c is not None and "_target_" in c]


def build_trainer(ctx: RunContext) -> Any:
    """Instantiate ``cfg.trainer`` with the run's callbacks and loggers."""
    from hydra.utils import instantiate

    callbacks = _instantiate_all(ctx.cfg.get("callbacks"))
    loggers = _instantiate_all(ctx.cfg.get("logger"))
    progress = any(type(c).__name__.endswith("ProgressBar") for c in callbacks)
    return instantiate(
        ctx.cfg.trainer,
        callbacks=callbacks,
        logger=loggers or False,
        enable_progress_bar=progress,
    )


def restore_best(trainer: Any, model: Any) -> None:
    """Load the best checkpoint's weights into ``model`` when a checkpoint callback kept one."""
    import torch

    callback = getattr(trainer, "checkpoint_callback", None)
    best = getattr(callback, "best_model_path", "") if callback is not None else ""
    if not best or getattr(trainer, "fast_dev_run", False):
        return
    checkpoint = torch.load(best, map_location="cpu", weights_only=False)
    model.load_state_dict(checkpoint["state_dict"])
