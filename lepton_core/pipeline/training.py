"""Build the Lightning Trainer from the composed config and restore the best checkpoint after fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from lepton_core.errors import ConfigError, DataError
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
    """Instantiate ``cfg.trainer`` with the run's callbacks and loggers (random states go into every checkpoint)."""
    from hydra.utils import instantiate

    from lepton_core.extras import require
    from lepton_core.pipeline.rng import RandomStateCheckpoint

    _check_trainer(ctx.cfg.trainer)

    for entry in (ctx.cfg.get("logger") or {}).values():  # a TensorBoardLogger set in YAML, not on the command line
        if entry is not None and "TensorBoardLogger" in str(entry.get("_target_", "")):
            require("tensorboard", "tensorboard", "the TensorBoard logger")
    callbacks = [*_instantiate_all(ctx.cfg.get("callbacks")), RandomStateCheckpoint()]
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


def check_resume_checkpoint(run_dir: Path, model: Any) -> Path:
    """``run_dir``'s last checkpoint, checked to be readable and to fit ``model`` (else a one-line error)."""
    import torch

    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise ConfigError(f"resume: {last} does not exist", "resume a run directory that has checkpoints")
    try:
        checkpoint = torch.load(last, map_location="cpu", weights_only=False)
        saved = checkpoint["state_dict"]
    except Exception as exc:  # noqa: BLE001 - truncated zip, unpickling and key errors all mean "unreadable"
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read the checkpoint {last}: {text}",
            "start a new run without resume (this checkpoint is damaged)",
        ) from None
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    found = {name: tuple(getattr(value, "shape", ())) for name, value in saved.items()}
    if expected != found:
        differs = sorted(set(expected) ^ set(found)) or sorted(n for n in expected if expected[n] != found[n])
        name = differs[0]
        detail = f"'{name}' is {found.get(name, 'absent')} in the checkpoint, {expected.get(name, 'absent')} in the model"
        raise ConfigError(
            f"the checkpoint {last} does not fit the model this config builds ({detail})",
            f"resume with the run's own overrides (listed in {run_dir / '.hydra' / 'overrides.yaml'})",
        )
    return last


NUMBER_TYPES = {"int", "float", "bool"}


def check_hyperparameters(model: Any) -> None:
    """A model option whose constructor wants a number or a flag and got text is a ConfigError naming it.

    Hydra passes ``model.lr=abc`` on as the text 'abc'; without this check it fails deep inside the optimiser.
    Only plain ``int``/``float``/``bool`` annotations (and ``X | None``) are checked, and only against text.
    """
    import inspect

    hparams = getattr(model, "hparams", None) or {}
    try:
        parameters = inspect.signature(type(model).__init__).parameters
    except (TypeError, ValueError):
        return
    for name, parameter in parameters.items():
        annotation = parameter.annotation
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        kinds = {part.strip() for part in str(text).split("|")} - {"None"}
        if name in hparams and kinds and kinds <= NUMBER_TYPES and isinstance(hparams[name], str):
            expected = "true or false" if kinds == {"bool"} else "a number"
            raise ConfigError(f"model.{name}={hparams[name]!r} is not {expected}", f"set model.{name} to {expected}")
