"""What a portfolio bundle carries: the forecaster's weights, its windows and scale, assets and risk profiles."""

from __future__ import annotations

from typing import Any

from lepton_core import Export, RunContext
from lepton_finance.portfolio.evaluation import selected_profile

__all__ = ["export_portfolio"]


def export_portfolio(ctx: RunContext, datamodule: Any, model: Any) -> Export:
    """The ReturnRiskNet with plain constructor arguments, and plain-JSON state for PortfolioPredictor."""
    profile, profiles = selected_profile(ctx.cfg.task)
    columns = datamodule.columns
    state = {
        "assets": datamodule.assets,
        "forecast": datamodule.settings.to_state(),
        "columns": {"date": columns.date, "asset": columns.asset, "price": columns.price},
        "risk_profiles": {name: p.to_state() for name, p in profiles.items()},
        "risk_profile": profile.name,
        "cost_bps": float(ctx.cfg.task.get("cost_bps", 10.0)),
        "periods_per_year": int(ctx.cfg.task.get("periods_per_year", 252)),
    }
    hp = model.hparams
    kwargs = {"n_inputs": int(hp.n_inputs), "hidden": [int(h) for h in hp.hidden], "dropout": float(hp.dropout)}
    return Export(module=model.net, model_kwargs=kwargs, state=state, input_example=datamodule.input_example())
