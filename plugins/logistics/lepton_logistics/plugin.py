"""Hook implementations of the logistics plugin. Imports nothing heavy at module level.

Tasks share the core's default hooks where they can (data, model and baselines come from the
task config, each task's predictor class from its TaskInfo); the hooks below return None for a task they leave to those defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lepton_core import Evaluation, Export, PluginInfo, RunContext, TaskInfo, hookimpl

ROUTING = "route_optimization"


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the logistics plugin and its tasks."""
    return PluginInfo(
        name="logistics",
        version="0.1.0",
        summary="Delivery-time prediction, hub volume forecasting, vehicle routing, warehouse picking and order tracking.",
        tasks=(
            TaskInfo("eta", "Delivery time (P50/P90 minutes) from distance, geo, time and courier features.",
                     "lepton_logistics.eta.predictor:EtaPredictor"),
            TaskInfo("demand_forecasting", "Daily parcel volumes per hub, long format unique_id, ds, y.",
                     "lepton_core.forecasting:ForecastPredictor"),
            TaskInfo(ROUTING, "Vehicle routes under capacities and time windows (OR-Tools), with causes of drops.",
                     "lepton_logistics.routing.predictor:RoutingPredictor"),
            TaskInfo("warehouse", "Slotting by forecast SKU velocity and pick routing (OR-Tools vs S-shape), per order.",
                     "lepton_logistics.warehouse.predictor:WarehousePredictor"),
            TaskInfo("order_tracking", "Remaining time (P10/P50/P90 hours) and ETA of a live order from its status events.",
                     "lepton_logistics.tracking.predictor:OrderTrackingPredictor"),
        ),
        default_task="eta",
        config_package="lepton_logistics.configs",
    )


@hookimpl
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score the task's model (or solver) beside its baselines on the held-out data."""
    if ctx.task == ROUTING:
        from lepton_logistics.routing.evaluate import evaluate_routing

        return evaluate_routing(ctx, datamodule, baselines)
    if ctx.task == "eta":
        from lepton_logistics.eta.evaluate import evaluate_eta

        return evaluate_eta(ctx, datamodule, model, baselines)
    if ctx.task == "warehouse":
        from lepton_logistics.warehouse.evaluate import evaluate_warehouse

        return evaluate_warehouse(ctx, datamodule, model, baselines)
    if ctx.task == "order_tracking":
        from lepton_logistics.tracking.evaluate import evaluate_order_tracking

        return evaluate_order_tracking(ctx, datamodule, model, baselines)
    from lepton_core.forecasting import evaluate_forecasts

    return evaluate_forecasts(ctx, datamodule, model, baselines, metrics=ctx.cfg.task.get("metrics"))


@hookimpl
def lepton_export(ctx: RunContext, datamodule: Any, model: Any) -> Export | None:
    """Routing and warehouse bundles carry settings (and a slotting) but no weights; order_tracking its own example; others use the default export."""
    if ctx.task == ROUTING:
        from lepton_logistics.routing.evaluate import settings_from_config

        return Export(module=None, state=settings_from_config(ctx.cfg.task).to_state(),
                      input_example=datamodule.input_example())
    if ctx.task == "warehouse":
        from lepton_logistics.warehouse.evaluate import export_warehouse

        return export_warehouse(ctx, datamodule, model)
    if ctx.task == "order_tracking":
        from lepton_logistics.tracking.evaluate import export_order_tracking

        return export_order_tracking(ctx, datamodule, model, None)
    return None

