"""Lepton: industry AI solution templates, from your data to an evaluated, explained, served model."""

from lepton_core.errors import BundleError, ConfigError, DataError, LeptonError, PluginError
from lepton_core.hooks import (
    CONTRACT_VERSION,
    Baseline,
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
    "Baseline",
    "BundleError",
    "ConfigError",
    "DataError",
    "DeployContext",
    "Evaluation",
    "Export",
    "Figure",
    "LeptonError",
    "PluginError",
    "PluginInfo",
    "RunContext",
    "Table",
    "TaskInfo",
    "__version__",
    "hookimpl",
]
