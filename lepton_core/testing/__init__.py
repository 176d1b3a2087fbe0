"""The contract kit plugin authors run in their own tests (see ``lepton_core.testing.kit``), and CLI helpers."""

from lepton_core.testing.cli import latest_run, run_lepton
from lepton_core.testing.kit import (
    ContractError,
    ContractReport,
    TaskReport,
    check_bundle,
    check_config_package,
    check_describe,
    check_fit,
    check_plugin,
    check_task_config,
    composed_config,
    task_names,
)

__all__ = [
    "ContractError",
    "ContractReport",
    "TaskReport",
    "check_bundle",
    "check_config_package",
    "check_describe",
    "check_fit",
    "check_plugin",
    "check_task_config",
    "composed_config",
    "latest_run",
    "run_lepton",
]
