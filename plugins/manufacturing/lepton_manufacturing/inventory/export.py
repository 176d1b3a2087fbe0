"""What an inventory bundle carries: the forecaster, its preprocessing and the replenishment policy as plain JSON."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, RunContext
from lepton_manufacturing.inventory.evaluation import PolicySettings, policy_correlation

__all__ = ["export_inventory"]


def export_inventory(ctx: RunContext, datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The network, the forecasting state and the policy (review period, service level, rho, SKU parameters)."""
    settings = PolicySettings.from_config(ctx.cfg.task)
    rho = evaluation.fitted.get("correlation")
    parameters = datamodule.parameters
    policy = {
        "review_period": datamodule.review_period,
        "max_lead_time": datamodule.max_lead_time,
        "service_level": settings.service_level,
        "correlation": rho if rho is not None else policy_correlation(datamodule, model, settings.service_level),
        "default_lead_time": int(datamodule.defaults["lead_time"]),
        "lead_times": {str(sku): int(lead) for sku, lead in parameters["lead_time"].items()},
    }
    return Export(module=model, state={**datamodule.export_state(), "policy": policy}, input_example=datamodule.input_example())
