"""Defect-detection evaluation: image AUROC, F1 at the chosen threshold, pixel AUROC, heatmaps of the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lepton_core import Evaluation, Export, Figure, RunContext, Table
from lepton_core.report.plots import roc_plot
from lepton_manufacturing.defects.surfaces import ImageSet
from lepton_manufacturing.defects.threshold import choose_threshold, decision_metrics

__all__ = ["detection_metrics", "evaluate_defects", "model_scores"]


def model_scores(model: Any, images: torch.Tensor, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(image scores, heatmaps) of the trained autoencoder for float images (N, C, H, W) in 0..1."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores, maps = [], []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            score, heat = model(images[start : start + batch_size].to(device))
            scores.append(score.float().cpu())
            maps.append(heat.float().cpu())
    model.train(was_training)
    return torch.cat(scores).numpy(), torch.cat(maps).numpy()


def detection_metrics(
    test: ImageSet, scores: np.ndarray, maps: np.ndarray, threshold: float, costs: tuple[float, float]
) -> dict[str, float]:
    """Image AUROC, the decision metrics at ``threshold`` and, when masks exist, pixel AUROC."""
    from sklearn.metrics import roc_auc_score

    metrics = {"image_auroc": float(roc_auc_score(test.labels, scores))}
    metrics.update(decision_metrics(scores, test.labels, threshold, costs))
    if test.masks is not None and test.has_mask is not None and test.has_mask.any():
        known = test.has_mask
        truth, heat = test.masks[known].ravel(), maps[known].ravel()
        if 0 < truth.sum() < len(truth):
            metrics["pixel_auroc"] = float(roc_auc_score(truth, heat))
    return metrics


def evaluate_defects(ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]) -> Evaluation:
    """Score every contender, pick each one's threshold on the calibration set, measure on the test set."""
    import pandas as pd

    options = ctx.cfg.task.threshold
    costs = (float(options.cost_missed_defect), float(options.cost_false_reject))
    calibration, test = datamodule.sets["calibration"], datamodule.sets["test"]
    inputs = {"calibration": datamodule.float_images("calibration"), "test": datamodule.float_images("test")}
    scorers: dict[str, Any] = {"model": lambda x: model_scores(model, x)}
    scorers.update({b.name: b.predict for b in baselines})
    metrics: dict[str, dict[str, float]] = {}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    decisions: dict[str, dict[str, Any]] = {}
    for name, score in scorers.items():
        calibration_scores, _ = score(inputs["calibration"])
        decisions[name] = choose_threshold(
            calibration_scores, calibration.labels, str(options.method), *costs, float(options.normal_quantile)
        )
        results[name] = score(inputs["test"])
        metrics[name] = detection_metrics(test, *results[name], decisions[name]["threshold"], costs)
    table = pd.DataFrame({"image": test.names, "kind": test.kinds, "label": test.labels})
    for name, (scores, _) in results.items():
        table[f"score_{name}"] = scores
    table.to_csv(ctx.run_dir / "test_scores.csv", index=False)
    scores, maps = results["model"]
    threshold = decisions["model"]["threshold"]
    figures = [
        roc_plot(ctx, test.labels, {name: r[0] for name, r in results.items()}),
        _score_histogram(ctx, test, scores, threshold),
        *_error_galleries(ctx, test, scores, maps, threshold),
    ]
    notes = [f"threshold ({name}): {d['threshold']:.5g}, {d['rule']}" for name, d in decisions.items()]
    if "pixel_auroc" not in metrics["model"]:
        notes.append("no ground-truth masks: pixel AUROC not computed")
    return Evaluation(
        metrics=metrics,
        primary_metric="image_auroc",
        greater_is_better=True,
        figures=tuple(figures),
        tables=(_per_kind(test, results, decisions),),
        notes=tuple(notes),
        fitted={"decision": decisions["model"]},  # the model's threshold, deployed by export_defects
    )


def export_defects(datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The trained autoencoder, the fitted preprocessing with the threshold the evaluation chose, an example image."""
    state = {**datamodule.export_state(), "decision": dict(evaluation.fitted["decision"])}
    return Export(module=model, state=state, input_example=datamodule.input_example())


def _per_kind(test: ImageSet, results: dict[str, tuple[np.ndarray, np.ndarray]], decisions: dict[str, Any]) -> Table:
    kinds = sorted(set(test.kinds), key=lambda k: (k != "good", k))
    rows = []
    for kind in kinds:
        mask = np.asarray(test.kinds) == kind
        flagged = [float(np.mean(r[0][mask] >= decisions[n]["threshold"])) for n, r in results.items()]
        rows.append((kind, int(mask.sum()), *(f"{f:.0%}" for f in flagged)))
    return Table(
        title="Rejected share per kind",
        columns=("kind", "images", *(f"rejected by {n}" for n in results)),
        rows=tuple(rows),
        caption="good: false rejects (lower is better); defect kinds: detection rate (higher is better).",
    )


def _score_histogram(ctx: RunContext, test: ImageSet, scores: np.ndarray, threshold: float) -> Figure:
    from lepton_core.report.figures import new_figure, save_figure

    fig, ax = new_figure(6, 3.6)
    bins = np.linspace(scores.min(), scores.max(), 40)
    ax.hist(scores[test.labels == 0], bins=bins, alpha=0.6, label="good")
    ax.hist(scores[test.labels == 1], bins=bins, alpha=0.6, label="defective")
    ax.axvline(threshold, color="black", ls="--", lw=1, label="threshold")
    ax.set(xlabel="anomaly score", ylabel="test images", title="Model anomaly scores")
    ax.legend()
    return save_figure(fig, ctx, "score_histogram", "Anomaly scores on the test split", "Dashed: the chosen threshold.")


def _error_galleries(ctx: RunContext, test: ImageSet, scores: np.ndarray, maps: np.ndarray, threshold: float) -> list[Figure]:
    """Heatmaps of the worst misses (lowest-scored defects) and worst false alarms (highest-scored good parts)."""
    from lepton_core.vision.overlay import overlay_grid

    figures = []
    defects, goods = np.flatnonzero(test.labels == 1), np.flatnonzero(test.labels == 0)
    galleries = (
        ("worst_misses", "Worst misses: defective parts with the lowest scores", defects[np.argsort(scores[defects])][:8]),
        ("worst_false_alarms", "Worst false alarms: good parts with the highest scores", goods[np.argsort(-scores[goods])][:8]),
    )
    for name, title, picks in galleries:
        if len(picks) == 0:
            continue
        captions = [f"{test.kinds[i]} {scores[i]:.3g} ({'rejected' if scores[i] >= threshold else 'passed'})" for i in picks]
        colors = ["red" if (scores[i] >= threshold) != bool(test.labels[i]) else "green" for i in picks]
        figures.append(
            overlay_grid(ctx, name, [test.images[i] for i in picks], [maps[i] for i in picks], captions, title,
                         caption="Heatmap: smoothed reconstruction error; red caption = wrong decision.",
                         caption_colors=colors)
        )
    return figures
