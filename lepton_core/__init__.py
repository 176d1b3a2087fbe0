"""Lepton: industry AI solution templates, from your data to an evaluated, explained, served model.

The whole plugin contract is importable from here: payloads, ``NO_MODEL``, the ``DataModule`` protocol,
``hookimpl``, and ``Predictor`` (imported on first use, since it needs torch).
"""

from typing import Any

from lepton_core.errors import BundleError, ConfigError, DataError, LeptonError, PluginError
from lepton_core.hooks import (
    CONTRACT_VERSION,
    NO_MODEL,
    Baseline,
    DataModule,
    DeployContext,
    Evaluation,
    Export,
    Figure,
    PluginInfo,
    RunContext,
    Table,
    TaskInfo,
    hookimpl,
)

__version__ = "0.1.0"

__all__ = [
    "CONTRACT_VERSION",
    "NO_MODEL",
    "Baseline",
    "BundleError",
    "ConfigError",
    "DataError",
    "DataModule",
    "DeployContext",
    "Evaluation",
    "Export",
    "Figure",
    "LeptonError",
    "PluginError",
    "PluginInfo",
    "Predictor",
    "RunContext",
    "Table",
    "TaskInfo",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    """``Predictor`` on first use: ``import lepton_core`` (every plugin.py) must not import torch."""
    if name == "Predictor":
        from lepton_core.deploy.predictor import Predictor

        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
