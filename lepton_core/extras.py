"""Optional features and the ``lepton-core[...]`` extra that installs each.

The core wheel carries what every command needs; a feature behind an extra imports its library through
``require``, so a missing one fails with one line naming the pip command (never an ImportError traceback).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType

from lepton_core.errors import ConfigError

__all__ = ["EXTRAS", "available", "require"]

#: extra -> what it enables (the packages are listed in pyproject.toml's optional-dependencies).
EXTRAS: Mapping[str, str] = {
    "onnx": "`lepton export --format onnx` and the ONNX runtime of predict/serve (onnx, onnxscript, onnxruntime)",
    "tune": "`hparams_search=...` sweeps with Optuna (hydra-optuna-sweeper)",
    "slurm": "`hydra/launcher=slurm` sweeps on SLURM (hydra-submitit-launcher)",
    "tensorboard": "`logger=tensorboard` (tensorboard)",
    "forecast": "the ETS and theta forecasting baselines (statsmodels)",
    "spark": "`--engine spark` and `launcher=spark` (pyspark)",
    "mlflow": "`logger=mlflow` (mlflow-skinny with its local SQLite store)",
}


def available(module: str) -> bool:
    """True when ``module`` imports."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``; a missing one raises a ConfigError naming ``lepton-core[extra]``."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module
        raise ConfigError(
            f"{feature} needs the '{extra}' extra ({missing} is not installed)", f"pip install 'lepton-core[{extra}]'"
        ) from None
