"""Evaluation of the example: core binary metrics and plots for model and baseline."""

from __future__ import annotations

from typing import Any

import torch

from lepton_core import Evaluation, RunContext
from lepton_core.data.inference import predict_loader
from lepton_core.metrics.classification import binary_metrics
from lepton_core.report.plots import roc_plot


def evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Score model and baselines on the test split."""
    x, y = datamodule.splits["test"]
    scores = {"model": torch.sigmoid(predict_loader(model, datamodule.test_dataloader())).numpy()}
    for baseline in baselines:
        scores[baseline.name] = baseline.predict(x.numpy())
    metrics = {name: binary_metrics(y.numpy(), s) for name, s in scores.items()}
    return Evaluation(
        metrics=metrics,
        primary_metric="roc_auc",
        greater_is_better=True,
        figures=(roc_plot(ctx, y.numpy(), scores),),
    )
