"""After a run published its outputs: its test metrics and its bundle go to the experiment trackers
(MLflow) that trained it, beside what Lightning logged while training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lepton_core.hooks.specs import Evaluation

__all__ = ["log_run_outputs"]


def log_run_outputs(trainer: Any, evaluation: Evaluation, bundle_dir: Path | None) -> None:
    """Log test metrics (``test/<contender>/<metric>``) and the bundle directory to every MLflow logger."""
    from lightning.pytorch.loggers import MLFlowLogger

    for logger in getattr(trainer, "loggers", None) or []:
        if not isinstance(logger, MLFlowLogger):
            continue
        metrics = {
            f"test/{contender}/{name}": float(value)
            for contender, values in evaluation.metrics.items()
            for name, value in values.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        logger.log_metrics(metrics)
        if bundle_dir is not None:
            logger.experiment.log_artifacts(logger.run_id, str(bundle_dir), artifact_path="bundle")
        logger.finalize("success")
