"""Build the Lightning Trainer from the composed config and restore the best checkpoint after fit."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from lepton_core.errors import ConfigError
from lepton_core.hooks.specs import RunContext


def _instantiate_all(group: DictConfig | None) -> list[Any]:
    from hydra.utils import instantiate

    if not group:
        return []
    return [instantiate(c) for c in group.values() if c is not None and "_target_" in c]


INTEGER_TRAINER_KEYS = ("max_epochs", "min_epochs", "max_steps", "log_every_n_steps", "num_nodes")


def _check_trainer(trainer_cfg: DictConfig) -> None:
    """Whole-number trainer options must be integers (Lightning would fail later with a bare assertion)."""
    for key in INTEGER_TRAINER_KEYS:
        value = trainer_cfg.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"trainer.{key}={value!r} is not a whole number", f"set trainer.{key} to an integer")


def build_trainer(ctx: RunContext) -> Any:
    """Instantiate ``cfg.trainer`` with the run's callbacks and loggers."""
    from hydra.utils import instantiate

    _check_trainer(ctx.cfg.trainer)

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
