"""Hook implementations of the manufacturing plugin. Imports nothing heavy at module level."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, PluginInfo, RunContext, TaskInfo, hookimpl

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


@hookimpl
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Score the model and its baselines on the task's test split."""
    if ctx.task == "predictive_maintenance":
        from lepton_manufacturing.maintenance.evaluation import evaluate_maintenance

        return evaluate_maintenance(ctx, datamodule, model, baselines)
    if ctx.task == "inventory":
        from lepton_manufacturing.inventory.evaluation import evaluate_inventory

        return evaluate_inventory(ctx, datamodule, model, baselines)
    from lepton_manufacturing.defects.evaluation import evaluate_defects

    return evaluate_defects(ctx, datamodule, model, baselines)


@hookimpl
def lepton_export(ctx: RunContext, datamodule: Any, model: Any) -> Export:
    """The trained network, the fitted preprocessing (and decision threshold) and an input example."""
    if ctx.task == "inventory":
        from lepton_manufacturing.inventory.export import export_inventory

        return export_inventory(ctx, datamodule, model)
    state = dict(datamodule.export_state())
    if ctx.task == "defect_detection":
        state["decision"] = dict(model.decision)
    return Export(module=model, state=state, input_example=datamodule.input_example())
