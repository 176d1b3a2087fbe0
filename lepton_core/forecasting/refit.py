"""The network trained again before the test, on everything before the first test origin.

The run fits the network on windows whose targets end before the validation span; that span chooses
the best epoch and the deployed combination. On short series it is a large share of the data, and the
most recent share: left out, the network forecasts the test from a fit that ended two horizons
earlier, while the statistical models refit on every history. So, after the choice, a fresh network
of the same configuration is trained for the best epoch count on every window whose targets end before
the first test origin (plus bootstrapped copies of that history, as for the fit;
:meth:`~lepton_core.forecasting.datamodule.ForecastDataModule.refit_windows`). Nothing of the test
part is read. The refit is what the backtest scores and what the bundle serves.

``task.refit``: ``auto`` refits when the validation span adds at least :data:`AUTO_MIN_SHARE` (5%) to
the real training windows (short histories; on long ones it changes little and doubles the training
time), ``true`` always, ``false`` never. Only a network the run trained is refitted.
"""

from __future__ import annotations

from typing import Any

from lepton_core.errors import ConfigError
from lepton_core.hooks.specs import RunContext

__all__ = ["AUTO_MIN_SHARE", "best_epoch_count", "refit_network", "should_refit"]

AUTO_MIN_SHARE = 0.05


def best_epoch_count(model: Any) -> int | None:
    """Epochs behind the model's restored weights (the best checkpoint's epoch + 1); None for a model no Trainer fitted."""
    import torch

    trainer = getattr(model, "_trainer", None)
    if trainer is None:
        return None
    callback = getattr(trainer, "checkpoint_callback", None)
    best = getattr(callback, "best_model_path", "") if callback is not None else ""
    if best:
        return int(torch.load(best, map_location="cpu", weights_only=False)["epoch"]) + 1
    return max(1, int(trainer.current_epoch))


def should_refit(setting: Any, datamodule: Any, model: Any) -> bool:
    """Whether ``task.refit`` (auto / true / false) asks for a refit of this run's network."""
    if setting not in ("auto", True, False):
        raise ConfigError(f"task.refit={setting!r} must be auto, true or false", "use task.refit=auto")
    if setting is False or model is None or best_epoch_count(model) is None:
        return False
    return setting is True or datamodule.refit_share() >= AUTO_MIN_SHARE


def refit_network(ctx: RunContext, datamodule: Any, model: Any) -> Any:
    """A fresh network like ``model``, trained for its best epoch count on :meth:`refit_windows` (seeded by the run)."""
    import lightning as L
    import torch
    from hydra.utils import instantiate

    epochs = best_epoch_count(model) or 1
    trainer_cfg = ctx.cfg.get("trainer") or {}
    progress = (ctx.cfg.get("callbacks") or {}).get("progress_bar")
    with torch.random.fork_rng():
        torch.manual_seed(ctx.seed)
        fresh = type(model)(**dict(model.hparams))
        trainer = L.Trainer(
            accelerator=trainer_cfg.get("accelerator", "auto"),
            devices=1,
            precision=trainer_cfg.get("precision", "32-true"),
            gradient_clip_val=trainer_cfg.get("gradient_clip_val"),
            deterministic=trainer_cfg.get("deterministic", "warn"),
            max_epochs=epochs,
            limit_train_batches=trainer_cfg.get("limit_train_batches"),
            limit_val_batches=0,
            num_sanity_val_steps=0,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            callbacks=[instantiate(progress)] if progress else [],
            enable_progress_bar=bool(progress),
            default_root_dir=str(ctx.run_dir),
        )
        trainer.fit(fresh, train_dataloaders=datamodule.shuffled(datamodule.refit_windows()))
    return fresh.eval()
