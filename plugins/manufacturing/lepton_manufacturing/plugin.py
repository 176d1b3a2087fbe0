"""Hook implementations of the manufacturing plugin. Imports nothing heavy at module level.

Data, model and baselines come from each task's config; so do evaluation and export (``task.evaluate``,
``task.export``: see the task YAMLs).
"""

from __future__ import annotations

from lepton_core import PluginInfo, TaskInfo, hookimpl

VERSION = "0.1.0"


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the manufacturing plugin and its tasks."""
    return PluginInfo(
        name="manufacturing",
        version=VERSION,
        summary="Visual defect detection (trained on good parts only), predictive maintenance (remaining useful life) and inventory.",
        tasks=(
            TaskInfo("defect_detection", "Find defective parts in images with a model trained on normal images only.",
                     "lepton_manufacturing.defects.predictor:DefectPredictor"),
            TaskInfo("predictive_maintenance", "Predict remaining useful life from multivariate sensor histories.",
                     "lepton_manufacturing.maintenance.predictor:RULPredictor"),
            TaskInfo("inventory", "Order-up-to levels from a quantile demand forecast, simulated against a classical policy.",
                     "lepton_manufacturing.inventory.predictor:InventoryPredictor"),
        ),
        default_task="defect_detection",
        config_package="lepton_manufacturing.configs",
    )
