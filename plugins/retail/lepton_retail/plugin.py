"""Hook implementations of the retail plugin. Imports nothing heavy at module level.

Each task's config names its evaluation (``task.evaluate``); the model hook below answers for
recommendation only and returns None (no answer: the core builds ``cfg.model``) for the others.
"""

from __future__ import annotations

from typing import Any

from lepton_core import PluginInfo, RunContext, TaskInfo, hookimpl


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the retail plugin and its tasks."""
    return PluginInfo(
        name="retail",
        version="0.1.0",
        summary="Retail: sales forecasting with quantiles across many series, product recommendation, churn and CLV.",
        tasks=(
            TaskInfo(
                "sales_forecasting",
                "Global neural forecaster (quantiles) for store x item sales, or its mean with ETS / theta when that "
                "wins on validation; vs seasonal naive, ETS and theta.",
                "lepton_core.forecasting:ForecastPredictor",
            ),
            TaskInfo(
                "recommendation",
                "Implicit-feedback factor model (sampled softmax): top-K unseen items per user, vs popularity, "
                "BPR-MF, LightGCN.",
                "lepton_retail.recommendation.predictor:RecommendationPredictor",
            ),
            TaskInfo(
                "customer_behaviour",
                "Churn and customer lifetime value from a transaction log: a GRU over each customer's purchases "
                "vs BG/NBD + Gamma-Gamma, with RFM segments.",
                "lepton_retail.customers.predictor:CustomerPredictor",
            ),
        ),
        default_task="sales_forecasting",
        config_package="lepton_retail.configs",
    )


@hookimpl
def lepton_build_model(ctx: RunContext, datamodule: Any) -> Any:
    """Recommendation: the factor model on the training graph, with popularity and seen items stored for serving."""
    if ctx.task != "recommendation":
        return None
    from hydra.utils import instantiate

    model = instantiate(ctx.cfg.model, _convert_="all", **datamodule.model_kwargs())
    model.set_catalogue(datamodule.item_counts, datamodule.seen_all)
    model.set_training_graph(*datamodule.train_pairs)
    return model
