"""Hook implementations of the retail plugin. Imports nothing heavy at module level."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export, PluginInfo, RunContext, TaskInfo, hookimpl


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


@hookimpl
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Forecasts: last horizon + backtest; recommendation: full-ranking NDCG@K...; customers: churn AUC and CLV."""
    if ctx.task == "recommendation":
        from lepton_retail.recommendation.evaluation import evaluate_recommender

        return evaluate_recommender(ctx, datamodule, model, baselines)
    if ctx.task == "customer_behaviour":
        from lepton_retail.customers.evaluation import evaluate_customers

        return evaluate_customers(ctx, datamodule, model, baselines)
    from lepton_core.forecasting import evaluate_forecasts

    return evaluate_forecasts(ctx, datamodule, model, baselines, metrics=ctx.cfg.task.get("metrics"))


@hookimpl
def lepton_export(ctx: RunContext, datamodule: Any, model: Any) -> Export | None:
    """Customer behaviour: the sequence model with its encoding state; other tasks: the core's default."""
    if ctx.task != "customer_behaviour":
        return None
    from lepton_retail.customers.predictor import export_customers

    return export_customers(ctx, datamodule, model)
