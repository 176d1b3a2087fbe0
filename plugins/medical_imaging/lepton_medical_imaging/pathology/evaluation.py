"""Slide-level evaluation of the MIL network and the baseline; where the attention looks, against lesion boxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, RunContext
from lepton_core.hooks.specs import Figure, Table
from lepton_core.metrics.classification import binary_metrics, bootstrap_interval

__all__ = ["DIRECTIONS", "attention_scores", "evaluate_pathology", "slide_predictions"]

DIRECTIONS = {"attention_auroc": True, "attention_top1_lesion": True, "sensitivity": True, "specificity": True}
OVERLAYS = 8


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def slide_predictions(model: Any, datamodule: Any, split: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The network's tumour probability and tile attention for every slide of ``split``."""
    probs, attention = [], []
    for tiles, _, _ in datamodule.loader(split):
        prob, weights = model.predict_bag(tiles)
        probs.append(prob)
        attention.append(weights.double().numpy())
    return np.array(probs), attention


def attention_scores(bags: Sequence[Any], attention: Sequence[np.ndarray]) -> dict[str, float]:
    """Over tumour slides with annotated lesion tiles: mean per-slide AUROC of attention against lesion
    tiles, and the share of slides whose most attended tile is a lesion tile (NaN without annotations)."""
    aurocs, top_hits = [], []
    for bag, weights in zip(bags, attention):
        if not bag.label or bag.lesion is None or not bag.lesion.any():
            continue
        top_hits.append(float(bag.lesion[int(np.argmax(weights))]))
        if not bag.lesion.all():
            aurocs.append(_auc(bag.lesion.astype(int), weights))
    return {
        "attention_auroc": float(np.mean(aurocs)) if aurocs else float("nan"),
        "attention_top1_lesion": float(np.mean(top_hits)) if top_hits else float("nan"),
    }


def _metrics(y: np.ndarray, prob: np.ndarray, seed: int) -> dict[str, float]:
    full = binary_metrics(y, prob)
    metrics = {k: full[k] for k in ("roc_auc", "accuracy", "pr_auc", "brier", "log_loss", "f1")}
    decided = prob >= 0.5
    metrics["sensitivity"] = float(decided[y == 1].mean())
    metrics["specificity"] = float((~decided[y == 0]).mean())
    metrics["roc_auc_ci_low"], metrics["roc_auc_ci_high"] = bootstrap_interval(y, prob, _auc, n_boot=200, seed=seed)
    return metrics


def attention_grid(bag: Any, weights: np.ndarray) -> np.ndarray:
    """The attention of a slide's tiles on its tile grid (zero where no tile was kept)."""
    grid = np.zeros(bag.grid)
    cells = np.round(bag.coords / bag.tile_px0).astype(int)
    grid[cells[:, 0], cells[:, 1]] = weights
    return grid


def _overlays(ctx: RunContext, bags: Sequence[Any], attention: Sequence[np.ndarray], prob: np.ndarray) -> Figure:
    from lepton_core.vision.overlay import overlay_grid

    tumour = [i for i, b in enumerate(bags) if b.label]
    normal = [i for i, b in enumerate(bags) if not b.label]
    shown_normal = min(2, len(normal))
    order = tumour[: OVERLAYS - shown_normal] + normal[:shown_normal]
    captions, colors, heatmaps = [], [], []
    for i in order:
        bag = bags[i]
        lesions = f", {int(bag.lesion.sum())} lesion tiles" if bag.lesion is not None else ""
        captions.append(f"{bag.name}\ntrue {'tumour' if bag.label else 'normal'}{lesions}\np(tumour) {prob[i]:.2f}")
        colors.append("green" if (prob[i] >= 0.5) == bool(bag.label) else "red")
        heatmaps.append(attention_grid(bag, attention[i]))  # stretched over the thumbnail
    return overlay_grid(
        ctx, "attention", [bags[i].thumbnail for i in order], heatmaps, captions,
        title="Attention over test slides", columns=4, caption_colors=colors,
        caption="Thumbnails of test slides (tumour, then two normal) with the network's attention per tile (warm = the tiles "
        "the slide score rests on). Green caption: the slide is classified right at 0.5; red: wrong.",
    )


def evaluate_pathology(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score the network and the baselines on the test slides; ROC, attention overlays and a per-slide table."""
    from lepton_core.report.plots import roc_plot

    bags = datamodule.bags["test"]
    y = np.array([b.label for b in bags])
    probs: dict[str, np.ndarray] = {}
    attention: list[np.ndarray] = []
    if model is not None:
        probs["model"], attention = slide_predictions(model, datamodule, "test")
    for baseline in baselines:
        probs[baseline.name] = np.asarray(baseline.predict(bags), dtype=float)
    metrics = {name: _metrics(y, p, ctx.seed) for name, p in probs.items()}
    figures = [roc_plot(ctx, y, probs)]
    notes = [f"{len(bags)} test slides ({int(y.sum())} tumour); splits stratified by label."]
    if model is not None:
        metrics["model"].update(attention_scores(bags, attention))
        figures.append(_overlays(ctx, bags, attention, probs["model"]))
        m = metrics["model"]
        interval = f"bootstrap 95% interval {m['roc_auc_ci_low']:.3f}-{m['roc_auc_ci_high']:.3f}"
        notes.append(f"Model slide ROC-AUC {m['roc_auc']:.3f} ({interval}).")
        if np.isfinite(m["attention_top1_lesion"]):
            notes.append(
                f"Attention against the annotated lesion tiles: AUROC {m['attention_auroc']:.3f} within tumour slides; "
                f"the most attended tile is a lesion tile in {m['attention_top1_lesion']:.0%} of them."
            )
        else:
            notes.append("Attention not scored: no lesion boxes (data.lesions_csv) for the test tumour slides.")
    table = Table(
        title="Test slides",
        columns=("slide", "label", "tiles", "lesion tiles", *(f"p(tumour) {n}" for n in probs)),
        rows=tuple(
            (b.name, "tumour" if b.label else "normal", len(b.tiles),
             "-" if b.lesion is None else int(b.lesion.sum()), *(f"{p[i]:.3f}" for p in probs.values()))
            for i, b in enumerate(bags)
        ),
        caption="Lesion tiles: kept tiles overlapping an annotated lesion box by a quarter of their area or more.",
    )
    return Evaluation(
        metrics=metrics,
        primary_metric="roc_auc",
        greater_is_better=True,
        metric_directions=DIRECTIONS,
        figures=tuple(figures),
        tables=(table,),
        notes=tuple(notes),
    )
