"""Test-split evaluation: clinical classification metrics, bootstrap AUC interval, plots and Grad-CAM overlays."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lepton_core import Evaluation, RunContext
from lepton_core.data.inference import predict_loader
from lepton_core.hooks.specs import Figure, Table
from lepton_core.metrics.classification import bootstrap_interval, multiclass_metrics

__all__ = ["calibrate_temperature", "classification_metrics", "evaluate", "fit_temperature", "gradcam_figures", "per_class_rates"]


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "class"


def _auc(y: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if probs.shape[1] == 2:
        return float(roc_auc_score(y, probs[:, 1]))
    return float(
        roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=list(range(probs.shape[1])))
    )


def per_class_rates(y: np.ndarray, pred: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    """Per-class support, sensitivity (recall), specificity, precision and F1 from the confusion matrix."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, pred, labels=list(range(num_classes))).astype(float)
    tp = np.diag(matrix)
    fn = matrix.sum(axis=1) - tp
    fp = matrix.sum(axis=0) - tp
    tn = matrix.sum() - tp - fn - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        sensitivity = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        specificity = np.where(tn + fp > 0, tn / (tn + fp), np.nan)
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        f1 = np.where(
            precision + np.nan_to_num(sensitivity) > 0,
            2 * precision * sensitivity / (precision + sensitivity),
            0.0,
        )
    return {
        "support": tp + fn,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "precision": precision,
        "f1": f1,
    }


def classification_metrics(
    y: np.ndarray, probs: np.ndarray, class_names: Sequence[str], n_boot: int = 200, seed: int = 0
) -> dict[str, float]:
    """ROC-AUC (macro one-vs-rest) with a bootstrap 95% interval, accuracy, balanced accuracy, F1, log loss,
    calibration error (ECE), and sensitivity and specificity of every class."""
    probs = np.clip(np.asarray(probs, dtype=np.float64), 1e-6, 1.0)
    probs = probs / probs.sum(
        axis=1, keepdims=True
    )  # clipped and renormalised: log loss sees true probabilities
    metrics = multiclass_metrics(y, probs)
    pred = probs.argmax(axis=1)
    rates = per_class_rates(y, pred, len(class_names))
    metrics["balanced_accuracy"] = float(np.nanmean(rates["sensitivity"]))
    if len(class_names) == 2:
        metrics["f1"] = float(rates["f1"][1])
    low, high = (
        bootstrap_interval(y, probs, _auc, n_boot=n_boot, seed=seed)
        if np.isfinite(metrics["roc_auc"])
        else (float("nan"),) * 2
    )
    metrics["roc_auc_ci_low"], metrics["roc_auc_ci_high"] = low, high
    for index, name in enumerate(class_names):
        metrics[f"sensitivity_{_slug(name)}"] = float(rates["sensitivity"][index])
        metrics[f"specificity_{_slug(name)}"] = float(rates["specificity"][index])
    return metrics


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T (0.05..20) minimising the log loss of softmax(logits / T) (Guo et al., 2017)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logits, labels = np.asarray(logits, dtype=np.float64), np.asarray(labels)

    def loss(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(labels)), labels].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def calibrate_temperature(model: Any, datamodule: Any) -> str:
    """Fit temperature scaling on the validation split; keep it only when it lowers validation ECE.

    The temperature lives in the model (``model.temperature``), so the bundle serves what was evaluated.
    Returns a sentence recording the decision.
    """
    from scipy.special import softmax

    from lepton_core.metrics.classification import expected_calibration_error

    model.temperature.fill_(1.0)
    logits = predict_loader(model, datamodule.val_dataloader()).double().numpy()
    labels = datamodule.splits["val"][1].numpy()
    if len(np.unique(labels)) < 2:
        return "Calibration: not fitted (the validation split has one class)."
    temperature = fit_temperature(logits, labels)
    before = expected_calibration_error(labels, softmax(logits, axis=1))
    after = expected_calibration_error(labels, softmax(logits / temperature, axis=1))
    if after < before:
        model.temperature.fill_(temperature)
        return (
            f"Calibration: temperature scaling (T={temperature:.2f}) applied, validation ECE {before:.3f} -> "
            f"{after:.3f}."
        )
    return (
        f"Calibration: temperature scaling (T={temperature:.2f}) not applied: validation ECE would go "
        f"{before:.3f} -> {after:.3f}."
    )


def _model_probs(model: Any, datamodule: Any) -> np.ndarray:
    probs = torch.softmax(predict_loader(model, datamodule.test_dataloader()).double(), dim=1).numpy()
    return probs / probs.sum(axis=1, keepdims=True)


def _roc_figure(
    ctx: RunContext, y: np.ndarray, probs: dict[str, np.ndarray], class_names: Sequence[str]
) -> Figure:
    from sklearn.metrics import roc_auc_score, roc_curve

    from lepton_core.report.figures import new_figure, save_figure
    from lepton_core.report.plots import roc_plot

    if len(class_names) == 2:
        return roc_plot(ctx, y, {name: p[:, 1] for name, p in probs.items()})
    fig, ax = new_figure(5, 4.2)
    for index, name in enumerate(class_names):
        hit = (y == index).astype(int)
        if hit.min() == hit.max():
            continue
        fpr, tpr, _ = roc_curve(hit, probs["model"][:, index])
        ax.plot(fpr, tpr, lw=1.2, label=f"{name} (AUC {roc_auc_score(hit, probs['model'][:, index]):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, one class vs rest (model)")
    ax.legend(loc="lower right", fontsize=7)
    return save_figure(
        fig, ctx, "roc", "ROC curves (one vs rest)", "The model on the test split, one curve per class."
    )


def _pick(indices: np.ndarray, count: int, seed: int) -> np.ndarray:
    if len(indices) <= count:
        return indices
    return np.sort(np.random.default_rng(seed).choice(indices, count, replace=False))


def gradcam_figures(
    ctx: RunContext, model: Any, datamodule: Any, probs: np.ndarray, per_group: int = 8
) -> list[Figure]:
    """Grad-CAM overlays for a sample of right and of wrong test predictions (two report figures)."""
    from lepton_core.vision.gradcam import GradCAM
    from lepton_core.vision.overlay import overlay_grid

    images, labels = datamodule.splits["test"]
    y = labels.numpy()
    pred = probs.argmax(axis=1)
    names = datamodule.class_names
    network = getattr(model, "backbone", model)
    device = next(network.parameters()).device
    figures = []
    cam = GradCAM(network)
    for kind, mask, color in (("right", pred == y, "green"), ("wrong", pred != y, "red")):
        chosen = _pick(np.flatnonzero(mask), per_group, ctx.seed)
        if len(chosen) == 0:
            continue
        rows = torch.from_numpy(chosen)
        inputs = datamodule.normalize(images[rows]).to(device)
        heatmaps, _ = cam(inputs, torch.from_numpy(pred[chosen]))
        # a class defined by an absence (normal) often has no region for it: show the runner-up class's map
        shown = pred[chosen].copy()
        empty = np.flatnonzero((heatmaps.flatten(1).amax(dim=1) <= 0).numpy())
        if len(empty):
            shown[empty] = np.argsort(probs[chosen[empty]], axis=1)[:, -2]
            heatmaps[empty] = cam(inputs[empty], torch.from_numpy(shown[empty]))[0]
        layer = next(name for name, module in network.named_modules() if module is cam.layer)
        where = f"Grad-CAM at {layer or 'the network'}, {'x'.join(map(str, heatmaps.shape[1:]))} map"
        captions = [
            f"true {names[y[i]]}\npred {names[pred[i]]} {probs[i, pred[i]]:.2f}"
            + ("" if shown[k] == pred[i] else f"\nheat: {names[shown[k]]}")
            for k, i in enumerate(chosen)
        ]
        figures.append(
            overlay_grid(
                ctx,
                f"gradcam_{kind}",
                [images[i] for i in rows],
                list(heatmaps),
                captions,
                title=f"Grad-CAM: {kind} predictions",
                columns=4,
                caption_colors=[color] * len(chosen),
                caption=f"Test images the model classified {'correctly' if kind == 'right' else 'wrongly'}; warm colours "
                f"mark the regions that drove the predicted class, or, where no region speaks for it (\"heat:\" "
                f"in the caption), the runner-up class ({where}).",
            )
        )
    return figures


def evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score the network and the baselines on the test split; plots, per-class table, Grad-CAM and notes."""
    from lepton_core.report.plots import confusion_matrix_plot, reliability_plot

    images, labels = datamodule.splits["test"]
    y = labels.numpy()
    names = datamodule.class_names
    calibration = (
        calibrate_temperature(model, datamodule)
        if ctx.cfg.task.get("calibration", "temperature") == "temperature"
        else "Calibration: off (task.calibration=none)."
    )
    probs: dict[str, np.ndarray] = {"model": _model_probs(model, datamodule)}
    for baseline in baselines:
        probs[baseline.name] = np.asarray(baseline.predict(images))
    metrics = {name: classification_metrics(y, p, names, seed=ctx.seed) for name, p in probs.items()}
    model_pred = probs["model"].argmax(axis=1)
    figures: list[Figure] = [
        _roc_figure(ctx, y, probs, names),
        confusion_matrix_plot(ctx, y, model_pred, names),
    ]
    if len(names) == 2:
        figures.append(reliability_plot(ctx, y, {n: p[:, 1] for n, p in probs.items()}))
    else:
        hit = (model_pred == y).astype(int)
        if hit.min() != hit.max():
            figures.append(reliability_plot(ctx, hit, {"model (top class)": probs["model"].max(axis=1)}))
    figures.extend(gradcam_figures(ctx, model, datamodule, probs["model"]))
    rates = per_class_rates(y, model_pred, len(names))
    table = Table(
        title="Per-class results (model, test split)",
        columns=("class", "images", "sensitivity", "specificity", "precision", "F1"),
        rows=tuple(
            (
                name,
                int(rates["support"][k]),
                *(round(float(rates[m][k]), 3) for m in ("sensitivity", "specificity", "precision", "f1")),
            )
            for k, name in enumerate(names)
        ),
        caption="Sensitivity = recall of the class; specificity = share of other-class images not called this class.",
    )
    return Evaluation(
        metrics=metrics,
        primary_metric="roc_auc",
        greater_is_better=True,
        figures=tuple(figures),
        tables=(table,),
        notes=(*_notes(metrics, datamodule), calibration),
    )


def _notes(metrics: dict[str, dict[str, float]], datamodule: Any) -> list[str]:
    model = metrics["model"]
    interval = f"{model['roc_auc_ci_low']:.3f}-{model['roc_auc_ci_high']:.3f}"
    tested = len(datamodule.splits["test"][1])
    notes = [
        f"Model ROC-AUC {model['roc_auc']:.3f} (bootstrap 95% interval {interval}, {tested} test images)."
    ]
    skipped = datamodule.loaded.skipped if datamodule.loaded is not None else ()
    if skipped:
        notes.append(
            f"{len(skipped)} file(s) were skipped as unreadable (data.on_error=skip), e.g. {skipped[0][1]}."
        )
    return notes
