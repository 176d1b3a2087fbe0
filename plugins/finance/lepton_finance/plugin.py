"""Hook implementations of the finance plugin. Imports nothing heavy at module level.

Evaluation and export are named by each task's config (``task.evaluate``, ``task.export``).
"""

from __future__ import annotations

from typing import Any

from lepton_core import PluginInfo, RunContext, TaskInfo, hookimpl

__version__ = "0.1.0"
PREDICTOR = "lepton_finance.predictor:RiskPredictor"  # the bundles' predictor, chosen here in code, never by a bundle
PORTFOLIO = "portfolio"


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the finance plugin and its tasks."""
    return PluginInfo(
        name="finance",
        version=__version__,
        summary="Credit scoring and fraud detection on tables: calibrated scores, cost-based decisions, reason codes.",
        tasks=(
            TaskInfo("credit_scoring", "Probability of default of loan applicants, with reason codes.", PREDICTOR),
            TaskInfo("fraud_detection", "Fraud probability of card transactions, with a cost-matrix threshold.", PREDICTOR),
            TaskInfo("portfolio", "Risk-profiled allocation: a deep return/risk forecaster feeding a cost-aware optimiser.",
                     "lepton_finance.portfolio.predictor:PortfolioPredictor"),
        ),
        default_task="credit_scoring",
        config_package="lepton_finance.configs",
    )


@hookimpl
def lepton_build_baselines(ctx: RunContext, datamodule: Any) -> list[Any]:
    """Every entry of cfg.baselines whose ``enabled`` is not false (logistic; gradient boosting on demand)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from lepton_finance.champion import check_champion_options

    baselines = []
    for entry in (ctx.cfg.get("baselines") or {}).values():
        if entry is None:
            continue
        options = OmegaConf.to_container(entry, resolve=True)
        if options.pop("enabled", True):
            baselines.append(instantiate(options))
    if ctx.task == PORTFOLIO:
        from lepton_finance.portfolio.evaluation import check_profiles

        check_profiles(ctx.cfg.task, len(datamodule.assets))
    else:
        check_champion_options(ctx.cfg.task, [b.name for b in baselines])  # fail before training, not after
    return baselines
