"""The plugin contract: markers, hook specifications and the plugin manager."""

from lepton_core.hooks.markers import hookimpl, hookspec
from lepton_core.hooks.specs import (
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
)

__all__ = [
    "CONTRACT_VERSION",
    "Baseline",
    "DeployContext",
    "Evaluation",
    "Export",
    "Figure",
    "PluginInfo",
    "RunContext",
    "Table",
    "TaskInfo",
    "hookimpl",
    "hookspec",
]
