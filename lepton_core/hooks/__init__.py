"""The plugin contract: markers, hook specifications and the plugin manager."""

from typing import Any

from lepton_core.hooks.markers import hookimpl, hookspec
from lepton_core.hooks.specs import (
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
)

__all__ = [
    "CONTRACT_VERSION",
    "NO_MODEL",
    "Baseline",
    "DataModule",
    "DeployContext",
    "Evaluation",
    "Export",
    "Figure",
    "PluginInfo",
    "Predictor",
    "RunContext",
    "Table",
    "TaskInfo",
    "hookimpl",
    "hookspec",
]


def __getattr__(name: str) -> Any:
    """``Predictor`` on first use (it imports torch)."""
    if name == "Predictor":
        from lepton_core.deploy.predictor import Predictor

        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
