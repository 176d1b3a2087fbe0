"""Hook implementations of the logistics plugin. Imports nothing heavy at module level.

Every task is config: data, model (``model: null`` for routing, nothing to train), baselines, evaluation
and export (``task.evaluate``, ``task.export``) come from the task YAML, each predictor class from its TaskInfo.
"""

from __future__ import annotations

from lepton_core import PluginInfo, TaskInfo, hookimpl

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
