"""Hook implementations of the example plugin. Imports nothing heavy at module level."""

from __future__ import annotations

import json
from typing import Any

from lepton_core import Evaluation, PluginInfo, RunContext, TaskInfo, hookimpl

PREDICTOR = "lepton_example.predictor:MoonsPredictor"  # the bundles' predictor, chosen here in code


@hookimpl
def lepton_describe() -> PluginInfo:
    """Describe the example plugin."""
    return PluginInfo(
        name="example",
        version="0.1.0",
        summary="Two-moons classification for the core's tests.",
        tasks=(
            TaskInfo("classify", "Classify points of two interleaved half-moons.", predictor=PREDICTOR),
            TaskInfo("noisy", "The same with more noise.", predictor=PREDICTOR),
        ),
        default_task="classify",
        config_package="lepton_example.configs",
    )


@hookimpl
def lepton_build_model(ctx: RunContext, datamodule: Any) -> Any:
    """Build the classifier from cfg.model with the feature count from the data."""
    from hydra.utils import instantiate

    return instantiate(ctx.cfg.model, n_features=datamodule.n_features)


@hookimpl
def lepton_build_baselines(ctx: RunContext, datamodule: Any) -> list[Any]:
    """A logistic regression on the raw features."""
    from lepton_example.model import LogisticBaseline

    return [LogisticBaseline()]


@hookimpl
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Accuracy and log loss on the test split, with a decision-boundary plot."""
    from lepton_example.evaluate import evaluate

    return evaluate(ctx, datamodule, model, baselines)


@hookimpl
def lepton_before_stage(ctx: RunContext, stage: str) -> None:
    """Record stage events so the tests can check the lifecycle order."""
    _record(ctx, {"event": "before", "stage": stage})


@hookimpl
def lepton_after_stage(ctx: RunContext, stage: str, result: Any) -> None:
    """Record stage events so the tests can check the lifecycle order."""
    _record(ctx, {"event": "after", "stage": stage, "result": type(result).__name__})


@hookimpl
def lepton_on_error(ctx: RunContext, stage: str, error: BaseException) -> None:
    """Record the failing stage."""
    _record(ctx, {"event": "error", "stage": stage, "error": type(error).__name__})


def _record(ctx: RunContext, event: dict[str, Any]) -> None:
    if ctx.plugin != "example":  # lifecycle hooks reach every plugin; record only our own runs
        return
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    with (ctx.run_dir / "example_events.jsonl").open("a") as handle:
        handle.write(json.dumps(event) + "\n")
